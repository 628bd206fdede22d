import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import { FakeClock, HOUR_MS, MINUTE_MS } from '../time/clock.js';
import { RequestThrottle } from './request-throttle.js';
import type { RateLimitStore } from './store.js';
import { decideHit, forgetHit } from './window.js';

/** The store contract in memory (each hit is synchronous, so it is atomic). */
function memoryStore(): RateLimitStore {
  const windows = new Map<string, Date[]>();
  return {
    async hit(key, now, rule) {
      const decision = decideHit(windows.get(key) ?? [], now, rule);
      windows.set(key, decision.hits);
      return decision;
    },
    async forget(key, at) {
      windows.set(key, forgetHit(windows.get(key) ?? [], at));
    },
  };
}

function setup(store: RateLimitStore = memoryStore()) {
  const clock = new FakeClock('2026-05-01T10:00:00Z');
  const logger = memoryLogger();
  const metrics = createMetrics(logger);
  return { clock, metrics, throttle: new RequestThrottle(store, logger, metrics) };
}

describe('RequestThrottle.perIp', () => {
  it('lets 10 requests of one address through in 15 minutes, then refuses with the wait', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 10; i++) {
      expect(await throttle.perIp('signup', '203.0.113.5', clock.now())).toBeNull();
      clock.advance(MINUTE_MS);
    }
    // The first hit was 10 minutes ago: its slot frees in 5 minutes.
    const refused = await throttle.perIp('signup', '203.0.113.5', clock.now());
    expect(refused).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'Too many sign-up attempts.',
      retryAfterSeconds: 5 * 60,
    });
    clock.advance(5 * MINUTE_MS);
    expect(await throttle.perIp('signup', '203.0.113.5', clock.now())).toBeNull();
  });

  it('gives each route its own budget, so spending one does not lock out another', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 10; i++) await throttle.perIp('password-reset', '203.0.113.5', clock.now());
    expect(await throttle.perIp('password-reset', '203.0.113.5', clock.now())).not.toBeNull();
    for (const route of ['signup', 'verify-email', 'login-oauth'] as const) {
      expect(await throttle.perIp(route, '203.0.113.5', clock.now())).toBeNull();
    }
    expect(await throttle.perIp('password-reset', '203.0.113.6', clock.now())).toBeNull();
  });

  it('counts a whole IPv6 /64 as one client, and IPv4-mapped IPv6 as its IPv4 address', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 10; i++) await throttle.perIp('verify-email', `2001:db8:1:2::${i + 1}`, clock.now());
    expect(await throttle.perIp('verify-email', '2001:db8:1:2:ffff::9', clock.now())).not.toBeNull();
    expect(await throttle.perIp('verify-email', '2001:db8:1:3::1', clock.now())).toBeNull();
    for (let i = 0; i < 10; i++) await throttle.perIp('login-oauth', '192.0.2.1', clock.now());
    expect(await throttle.perIp('login-oauth', '::ffff:192.0.2.1', clock.now())).not.toBeNull();
  });

  it('lets requests through when the store is down, and counts it', async () => {
    const { clock, metrics, throttle } = setup({
      hit: async () => {
        throw new Error('store down');
      },
      forget: async () => {},
    });
    expect(await throttle.perIp('signup', '203.0.113.5', clock.now())).toBeNull();
    expect(await throttle.mailAllowed('signup', 'a@example.com', clock.now())).toBe(true);
    expect(metrics.value('ratelimit_store_errors')).toBe(2);
  });
});

describe('RequestThrottle.mailAllowed', () => {
  it('allows 3 mails of a kind per recipient per hour, each kind and recipient counted apart', async () => {
    const { clock, throttle } = setup();
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push(await throttle.mailAllowed('password-reset', 'victim@example.com', clock.now()));
      clock.advance(MINUTE_MS);
    }
    expect(answers).toEqual([true, true, true, false, false]);
    expect(await throttle.mailAllowed('signup', 'victim@example.com', clock.now())).toBe(true);
    expect(await throttle.mailAllowed('password-reset', 'other@example.com', clock.now())).toBe(true);
    clock.advance(HOUR_MS - 5 * MINUTE_MS);
    expect(await throttle.mailAllowed('password-reset', 'victim@example.com', clock.now())).toBe(true);
  });

  it('lets at most 3 of a concurrent burst through', async () => {
    const { clock, throttle } = setup();
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => throttle.mailAllowed('signup', 'burst@example.com', clock.now())),
    );
    expect(answers.filter(Boolean)).toHaveLength(3);
  });
});
