import { z } from 'zod';
import { constantTimeEqual } from '../crypto/tokens.js';
import { SSO_STATE_TTL_SECONDS } from './model.js';
import { signCookie, verifyCookie } from './signed-cookie.js';

/** `__Host-`: Secure, Path=/ and no Domain, so no subdomain can plant a state cookie. */
export const SSO_STATE_COOKIE = '__Host-sf_sso';

const payloadSchema = z.strictObject({
  orgId: z.string().uuid(),
  state: z.string().min(16).max(128),
  nonce: z.string().min(16).max(128),
  codeVerifier: z.string().min(43).max(128),
  returnTo: z.string().max(2048),
  /**
   * Present when a signed-in user started linking their account to the org's identity: the
   * callback links only for this same session (still live, same user), never signs anyone in.
   */
  link: z.strictObject({ userId: z.string().uuid(), sessionId: z.string().uuid() }).optional(),
  expiresAt: z.number().int(),
});

export type SsoState = z.infer<typeof payloadSchema>;

/** base64url(JSON).base64url(HMAC-SHA256): readable by nobody but the browser (HttpOnly), forgeable by nobody. */
export function signState(key: Buffer, state: Omit<SsoState, 'expiresAt'>, now: Date): string {
  return signCookie(key, 'sso-state.v1', state, now);
}

/** Null for a tampered, malformed or expired cookie. */
export function verifyState(key: Buffer, cookie: string | undefined, now: Date): SsoState | null {
  return verifyCookie(key, 'sso-state.v1', cookie, payloadSchema, now);
}

/** Cookie vs query `state`, compared in constant time. */
export function stateMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return constantTimeEqual(Buffer.from(expected), Buffer.from(given));
}

export function stateCookieHeader(value: string): string {
  return `${SSO_STATE_COOKIE}=${value}; Max-Age=${SSO_STATE_TTL_SECONDS}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

export function clearedStateCookieHeader(): string {
  return `${SSO_STATE_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`;
}
