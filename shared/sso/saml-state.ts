import { z } from 'zod';
import { SSO_STATE_TTL_SECONDS } from './model.js';
import { signCookie, verifyCookie } from './signed-cookie.js';

/**
 * The SAML sign-in's state: which org and which AuthnRequest this browser started. SameSite=None,
 * unlike the OIDC state cookie: the IdP answers with a cross-site form POST, on which browsers
 * drop Lax cookies. HttpOnly, Secure and the HMAC keep it as unreadable and unforgeable.
 */
export const SAML_STATE_COOKIE = '__Host-sf_saml';

const payloadSchema = z.strictObject({
  orgId: z.string().uuid(),
  requestId: z.string().min(16).max(128),
  returnTo: z.string().max(2048),
  expiresAt: z.number().int(),
});

export type SamlState = z.infer<typeof payloadSchema>;

export function signSamlState(key: Buffer, state: Omit<SamlState, 'expiresAt'>, now: Date): string {
  return signCookie(key, 'saml-state.v1', state, now);
}

/** Null for a tampered, malformed or expired cookie. */
export function verifySamlState(key: Buffer, cookie: string | undefined, now: Date): SamlState | null {
  return verifyCookie(key, 'saml-state.v1', cookie, payloadSchema, now);
}

export function samlStateCookieHeader(value: string): string {
  return `${SAML_STATE_COOKIE}=${value}; Max-Age=${SSO_STATE_TTL_SECONDS}; Path=/; Secure; HttpOnly; SameSite=None`;
}

export function clearedSamlStateCookieHeader(): string {
  return `${SAML_STATE_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=None`;
}
