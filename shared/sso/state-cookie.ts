import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual } from '../crypto/tokens.js';
import { SSO_STATE_TTL_SECONDS } from './model.js';

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

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(`sso-state.v1.${body}`).digest();
}

/** base64url(JSON).base64url(HMAC-SHA256): readable by nobody but the browser (HttpOnly), forgeable by nobody. */
export function signState(key: Buffer, state: Omit<SsoState, 'expiresAt'>, now: Date): string {
  const body = Buffer.from(
    JSON.stringify({ ...state, expiresAt: now.getTime() + SSO_STATE_TTL_SECONDS * 1000 }),
  ).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** Null for a tampered, malformed or expired cookie. */
export function verifyState(key: Buffer, cookie: string | undefined, now: Date): SsoState | null {
  if (!cookie || cookie.length > 4096) return null;
  const dot = cookie.indexOf('.');
  if (dot <= 0) return null;
  const body = cookie.slice(0, dot);
  const given = Buffer.from(cookie.slice(dot + 1), 'base64url');
  if (!constantTimeEqual(given, mac(key, body))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const state = payloadSchema.safeParse(parsed);
  if (!state.success || state.data.expiresAt <= now.getTime()) return null;
  return state.data;
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
