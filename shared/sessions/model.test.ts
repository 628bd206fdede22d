import { describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS } from '../time/clock.js';
import {
  idleExpiresAt,
  inSudo,
  revocationStreamKey,
  sessionState,
  sessionTokenHash,
  shouldTouch,
} from './model.js';

const start = new Date('2026-03-01T00:00:00Z');
const later = (ms: number) => new Date(start.getTime() + ms);
const session = {
  createdAt: start,
  lastSeenAt: start,
  expiresAt: later(14 * DAY_MS),
  idleTimeoutMinutes: 1440,
  revokedAt: null,
};

describe('session state', () => {
  it('is active inside both the idle and absolute limits', () => {
    expect(sessionState(session, later(23 * 60 * MINUTE_MS))).toBe('active');
  });

  it('goes idle once idleTimeoutMinutes pass without a request', () => {
    expect(sessionState(session, later(1440 * MINUTE_MS - 1))).toBe('active');
    expect(sessionState(session, later(1440 * MINUTE_MS))).toBe('idle');
  });

  it('expires at the absolute cap however recently it was used', () => {
    const busy = { ...session, lastSeenAt: later(14 * DAY_MS - MINUTE_MS) };
    expect(sessionState(busy, later(14 * DAY_MS - 1))).toBe('active');
    expect(sessionState(busy, later(14 * DAY_MS))).toBe('expired');
  });

  it('caps at 14 days even when a row claims a later expiry', () => {
    const tampered = { ...session, expiresAt: later(30 * DAY_MS), lastSeenAt: later(14 * DAY_MS) };
    expect(sessionState(tampered, later(14 * DAY_MS + 1))).toBe('expired');
  });

  it('is revoked as soon as revokedAt is set', () => {
    expect(sessionState({ ...session, revokedAt: later(1) }, later(2))).toBe('revoked');
  });

  it('reports the idle deadline, never past the absolute expiry', () => {
    expect(idleExpiresAt(session)).toEqual(later(1440 * MINUTE_MS));
    expect(idleExpiresAt({ ...session, lastSeenAt: later(14 * DAY_MS - MINUTE_MS) })).toEqual(
      later(14 * DAY_MS),
    );
  });
});

describe('session bookkeeping', () => {
  it('touches last_seen_at at most once a minute', () => {
    expect(shouldTouch(start, later(59_999))).toBe(false);
    expect(shouldTouch(start, later(60_000))).toBe(true);
  });

  it('sudo lasts until sudoUntil, exclusive', () => {
    const until = later(10 * MINUTE_MS);
    expect(inSudo(until, later(10 * MINUTE_MS - 1000))).toBe(true);
    expect(inSudo(until, later(10 * MINUTE_MS + 1000))).toBe(false);
    expect(inSudo(null, start)).toBe(false);
  });

  it('the revocation stream key is the hash of the stored hash', () => {
    const stored = sessionTokenHash('token');
    expect(revocationStreamKey(stored)).toMatch(/^[0-9a-f]{64}$/);
    expect(revocationStreamKey(stored)).not.toBe(stored.toString('hex'));
  });
});
