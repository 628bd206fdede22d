import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../time/clock.js';
import {
  attemptVerdict,
  eventsField,
  headersField,
  nextAttemptAt,
  RETRY_DELAYS_MS,
  shouldDisable,
  wantsEvent,
} from './model.js';

describe('delivery rules', () => {
  it('retries network errors, 408, 429 and 5xx; delivers on 2xx; fails other answers at once', () => {
    expect([200, 202, 204].map(attemptVerdict)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([null, 408, 429, 500, 502, 503, 599].map(attemptVerdict)).toEqual(Array(7).fill('retry'));
    expect([301, 400, 401, 403, 404, 410, 413, 422].map(attemptVerdict)).toEqual(Array(8).fill('fail'));
  });

  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then gives up', () => {
    const now = new Date('2026-05-01T00:00:00Z');
    expect(
      RETRY_DELAYS_MS.map((_, i) => (nextAttemptAt(i + 1, now)?.getTime() ?? 0) - now.getTime()),
    ).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(nextAttemptAt(RETRY_DELAYS_MS.length + 1, now)).toBeNull();
  });

  it('disables an endpoint once it has failed for 5 days without a success', () => {
    const since = new Date('2026-05-01T00:00:00Z');
    expect(shouldDisable(null, new Date(since.getTime() + 30 * DAY_MS))).toBe(false);
    expect(shouldDisable(since, new Date(since.getTime() + 5 * DAY_MS - 1))).toBe(false);
    expect(shouldDisable(since, new Date(since.getTime() + 5 * DAY_MS))).toBe(true);
  });

  it('matches event types by name or *; "*" among others means all', () => {
    expect(eventsField.parse(['member.removed', '*'])).toEqual(['*']);
    expect(eventsField.parse(['login.failed', 'member.removed', 'login.failed'])).toEqual([
      'login.failed',
      'member.removed',
    ]);
    expect(wantsEvent(['*'], 'anything')).toBe(true);
    expect(wantsEvent(['login.failed'], 'login.succeeded')).toBe(false);
    expect(eventsField.safeParse(['session.exported']).success).toBe(false);
  });

  it('refuses provider headers that would replace our own, or smuggle a line break', () => {
    for (const name of ['webhook-signature', 'Host', 'content-length', 'Transfer-Encoding', 'User-Agent']) {
      expect(headersField.safeParse({ [name]: 'x' }).success, name).toBe(false);
    }
    expect(headersField.safeParse({ Authorization: 'Splunk a\r\nX-Evil: 1' }).success).toBe(false);
    expect(headersField.safeParse({ 'DD-API-KEY': 'abc', Authorization: 'Splunk t' }).success).toBe(true);
  });
});
