import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAIL_OPEN_LOG_INTERVAL_MS } from '../../shared/log/fail-open-log.js';
import { createLogger } from '../../shared/log/logger.js';
import { createMetrics } from '../../shared/log/metrics.js';
import { FirestoreRateLimitStore } from '../../shared/ratelimit/firestore-store.js';
import { GuardedRateLimitStore, STORE_DEADLINE_MS } from '../../shared/ratelimit/guarded-store.js';
import { LoginThrottle } from '../../shared/ratelimit/login-throttle.js';
import { RequestThrottle } from '../../shared/ratelimit/request-throttle.js';
import { FakeClock } from '../../shared/time/clock.js';
import { startTestFirestore, type TestFirestore } from '../helpers/firestore.js';

/**
 * Firestore (the emulator) gone under the rate-limit store, as deployed (FAST_STATE_STORE=firestore):
 * logins and the throttled account routes proceed (fail open) within the store's deadline, every
 * failure is counted, and the log carries one line a minute with the count, not one per request.
 */
describe('Firestore gone for the rate-limit store', () => {
  let emulator: TestFirestore;
  beforeAll(async () => {
    emulator = await startTestFirestore();
  });
  afterAll(() => emulator?.stop());

  it('fails open at once, counts every failure and logs once a minute', async () => {
    const clock = new FakeClock('2026-06-01T10:00:00Z');
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line)));
    const metrics = createMetrics(logger);
    const store = new GuardedRateLimitStore(new FirestoreRateLimitStore(emulator.firestore));
    const logins = new LoginThrottle(store, logger, metrics);
    const requests = new RequestThrottle(store, logger, metrics);

    // While Firestore answers, the throttle counts as usual.
    const first = await logins.attempt('203.0.113.9', 'ada@example.com', clock.now());
    expect(first.ok).toBe(true);
    expect(metrics.value('ratelimit_store_errors')).toBe(0);

    emulator.kill();
    const started = Date.now();
    let attempts = 0;
    // Three and a half minutes of traffic: two requests a second.
    for (let second = 0; second < 210; second++) {
      // Many clients (one client's 210 attempts would pass the limit, which still holds locally).
      for (const ip of [`198.51.100.${second}`, `203.0.113.${second}`]) {
        const outcome = await logins.attempt(ip, 'ada@example.com', clock.now());
        expect(outcome.ok).toBe(true);
        if (outcome.ok) await outcome.succeeded();
        attempts++;
      }
      expect(await requests.perIp('signup', `192.0.2.${second}`, clock.now())).toBeNull();
      attempts++;
      clock.advance(1000);
    }
    // Only the first call waits out the deadline; the rest fail open without waiting.
    expect(Date.now() - started).toBeLessThan(STORE_DEADLINE_MS * 4);

    const failures = metrics.value('ratelimit_store_errors');
    expect(failures).toBeGreaterThanOrEqual(attempts);
    const outageLines = lines.filter((line) =>
      String(line.message).startsWith('rate-limit store unavailable'),
    );
    // One line at the start and one per further minute: 210 s → 4 lines, not hundreds.
    expect(outageLines).toHaveLength(Math.ceil((210 * 1000) / FAIL_OPEN_LOG_INTERVAL_MS));
    expect(
      outageLines.every((line) => line.severity === 'ERROR' && line.metric === 'ratelimit_store_errors'),
    ).toBe(true);
    // Each line counts the failures since the one before; those of the last minute wait for the next line.
    const logged = outageLines.reduce((sum, line) => sum + Number(line.failures), 0);
    expect(logged).toBeLessThanOrEqual(failures);
    expect(failures - logged).toBeLessThanOrEqual((3 * FAIL_OPEN_LOG_INTERVAL_MS) / 1000);
    // No per-failure metric lines either.
    expect(lines.filter((line) => line.metric === 'ratelimit_store_errors')).toHaveLength(outageLines.length);
  }, 60_000);
});
