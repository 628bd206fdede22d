import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual } from '../crypto/tokens.js';
import { SSO_STATE_TTL_SECONDS } from './model.js';

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

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(`saml-state.v1.${body}`).digest();
}

export function signSamlState(key: Buffer, state: Omit<SamlState, 'expiresAt'>, now: Date): string {
  const body = Buffer.from(
    JSON.stringify({ ...state, expiresAt: now.getTime() + SSO_STATE_TTL_SECONDS * 1000 }),
  ).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** Null for a tampered, malformed or expired cookie. */
export function verifySamlState(key: Buffer, cookie: string | undefined, now: Date): SamlState | null {
  if (!cookie || cookie.length > 4096) return null;
  const [body, tag, ...rest] = cookie.split('.');
  if (!body || !tag || rest.length > 0) return null;
  if (!constantTimeEqual(Buffer.from(tag, 'base64url'), mac(key, body))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const state = payloadSchema.safeParse(parsed);
  return state.success && state.data.expiresAt > now.getTime() ? state.data : null;
}

export function samlStateCookieHeader(value: string): string {
  return `${SAML_STATE_COOKIE}=${value}; Max-Age=${SSO_STATE_TTL_SECONDS}; Path=/; Secure; HttpOnly; SameSite=None`;
}

export function clearedSamlStateCookieHeader(): string {
  return `${SAML_STATE_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=None`;
}
