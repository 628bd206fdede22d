import { createHmac } from 'node:crypto';
import type { z } from 'zod';
import { constantTimeEqual } from '../crypto/tokens.js';
import { SSO_STATE_TTL_SECONDS } from './model.js';

function mac(key: Buffer, purpose: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${purpose}.${body}`).digest();
}

/**
 * base64url(JSON).base64url(HMAC-SHA256) with an expiry `SSO_STATE_TTL_SECONDS` ahead: readable by
 * nobody but the browser (HttpOnly), forgeable by nobody. `purpose` keeps one kind of cookie from
 * passing for another.
 */
export function signCookie(key: Buffer, purpose: string, payload: object, now: Date): string {
  const body = Buffer.from(
    JSON.stringify({ ...payload, expiresAt: now.getTime() + SSO_STATE_TTL_SECONDS * 1000 }),
  ).toString('base64url');
  return `${body}.${mac(key, purpose, body).toString('base64url')}`;
}

/** Null for a tampered, malformed or expired cookie, or one whose payload the schema refuses. */
export function verifyCookie<T extends { expiresAt: number }>(
  key: Buffer,
  purpose: string,
  cookie: string | undefined,
  schema: z.ZodType<T>,
  now: Date,
): T | null {
  if (!cookie || cookie.length > 4096) return null;
  const dot = cookie.indexOf('.');
  if (dot <= 0) return null;
  const body = cookie.slice(0, dot);
  const given = Buffer.from(cookie.slice(dot + 1), 'base64url');
  if (!constantTimeEqual(given, mac(key, purpose, body))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const state = schema.safeParse(parsed);
  return state.success && state.data.expiresAt > now.getTime() ? state.data : null;
}
