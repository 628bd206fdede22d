import { sha256, sha256Hex } from '../crypto/tokens.js';

export const ABSOLUTE_LIFETIME_MS = 14 * 24 * 60 * 60 * 1000;
export const DEFAULT_IDLE_TIMEOUT_MINUTES = 1440;
/** Orgs without a policy that are not marked enterprise get a short idle timeout. */
export const NON_ENTERPRISE_FALLBACK_IDLE_MINUTES = 30;
/** `last_seen_at` is written at most once a minute per session, to keep validation read-mostly. */
export const TOUCH_INTERVAL_MS = 60 * 1000;
export const SUDO_WINDOW_MS = 10 * 60 * 1000;

/** What the database stores: SHA-256(token). Presenting this value as a token hashes it again and fails. */
export function sessionTokenHash(token: string): Buffer {
  return sha256(token);
}

/** What live clients listen on: SHA-256(SHA-256(token)), so the feed never reveals the stored hash. */
export function revocationStreamKey(tokenHash: Buffer): string {
  return sha256Hex(tokenHash);
}

export interface SessionTimes {
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  idleTimeoutMinutes: number;
  revokedAt: Date | null;
}

export type SessionState = 'active' | 'revoked' | 'expired' | 'idle';

/** The one place that decides whether a session still stands at `now`. */
export function sessionState(session: SessionTimes, now: Date): SessionState {
  if (session.revokedAt) return 'revoked';
  const hardCap = Math.min(session.expiresAt.getTime(), session.createdAt.getTime() + ABSOLUTE_LIFETIME_MS);
  if (now.getTime() >= hardCap) return 'expired';
  if (now.getTime() >= idleExpiresAt(session).getTime()) return 'idle';
  return 'active';
}

export function idleExpiresAt(
  session: Pick<SessionTimes, 'lastSeenAt' | 'idleTimeoutMinutes' | 'expiresAt'>,
): Date {
  const idle = session.lastSeenAt.getTime() + session.idleTimeoutMinutes * 60 * 1000;
  return new Date(Math.min(idle, session.expiresAt.getTime()));
}

export function shouldTouch(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() >= TOUCH_INTERVAL_MS;
}

export function inSudo(sudoUntil: Date | null, now: Date): boolean {
  return sudoUntil !== null && now.getTime() < sudoUntil.getTime();
}
