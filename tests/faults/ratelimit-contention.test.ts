import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log/logger.js';
import { createMetrics } from '../../shared/log/metrics.js';
import { FirestoreRateLimitStore } from '../../shared/ratelimit/firestore-store.js';
import { GuardedRateLimitStore } from '../../shared/ratelimit/guarded-store.js';
import { attemptsPerIp, LoginThrottle } from '../../shared/ratelimit/login-throttle.js';
import { startTestFirestore, type TestFirestore } from '../helpers/firestore.js';

/**
 * An attacker cannot turn the store's fail-open into unlimited password guesses: a burst on one
 * key makes the Firestore store slow (its compare-and-set rounds contend), the guard's deadline
 * passes and the throttle fails open, but even then one client gets no more than the limit.
 */
describe('login throttle under a burst that makes the store slow', () => {
  let emulator: TestFirestore;
  beforeAll(async () => {
    emulator = await startTestFirestore();
  });
  afterAll(() => emulator?.stop());

  it('lets no more than the limit through from one address, store slow or not', async () => {
    const logger = createLogger('silent');
    const metrics = createMetrics(logger);
    // A short deadline stands in for a store slowed by the burst (contended rounds take longer).
    const store = new GuardedRateLimitStore(new FirestoreRateLimitStore(emulator.firestore), 50, 5000);
    const logins = new LoginThrottle(store, logger, metrics);
    const now = new Date();
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => logins.attempt('203.0.113.77', `victim${i % 3}@example.com`, now)),
    );
    // Then, while the guard skips the store, the attacker keeps guessing.
    for (let i = 0; i < 40; i++)
      outcomes.push(await logins.attempt('203.0.113.77', 'victim0@example.com', now));
    const allowed = outcomes.filter((o) => o.ok).length;
    expect(metrics.value('ratelimit_store_errors')).toBeGreaterThan(0);
    expect(allowed).toBeLessThanOrEqual(attemptsPerIp.limit);
  }, 60_000);
});
