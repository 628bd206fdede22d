import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log/logger.js';
import { createMetrics } from '../../shared/log/metrics.js';
import { FirestoreRateLimitStore } from '../../shared/ratelimit/firestore-store.js';
import { LoginThrottle } from '../../shared/ratelimit/login-throttle.js';
import { PostgresRateLimitStore } from '../../shared/ratelimit/postgres-store.js';
import type { RateLimitStore } from '../../shared/ratelimit/store.js';
import { MINUTE_MS } from '../../shared/time/clock.js';
import { backendNames, type FastStateBackend, openBackend } from '../helpers/fast-state.js';

const rule = { windowMs: 15 * MINUTE_MS, limit: 3 };
const start = new Date('2026-05-01T10:00:00Z');
const at = (ms: number) => new Date(start.getTime() + ms);
let keyCounter = 0;
const freshKey = () => `login:ip:ip6:2001:db8::/64:${++keyCounter}`;

describe.each(backendNames)('RateLimitStore contract on %s', (name) => {
  let backend: FastStateBackend;
  let store: RateLimitStore;
  beforeAll(async () => {
    backend = await openBackend(name);
    store =
      backend.kind === 'firestore'
        ? new FirestoreRateLimitStore(backend.firestore)
        : new PostgresRateLimitStore(backend.db);
  });
  afterAll(() => backend?.close());

  it('allows up to the limit in a window, then refuses with the seconds until a slot frees', async () => {
    const key = freshKey();
    for (const minute of [0, 1, 2])
      expect((await store.hit(key, at(minute * MINUTE_MS), rule)).allowed).toBe(true);
    const refused = await store.hit(key, at(3 * MINUTE_MS), rule);
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 12 * 60 });
    expect((await store.hit(key, at(15 * MINUTE_MS), rule)).allowed).toBe(true);
  });

  it('keeps keys apart, including keys that differ only after a slash', async () => {
    const key = freshKey();
    for (let i = 0; i < 3; i++) await store.hit(`${key}/a`, start, rule);
    expect((await store.hit(`${key}/a`, start, rule)).allowed).toBe(false);
    expect((await store.hit(`${key}/b`, start, rule)).allowed).toBe(true);
  });

  it('lets at most the limit through when a burst of hits arrives at once', async () => {
    const key = freshKey();
    const decisions = await Promise.all(Array.from({ length: 8 }, () => store.hit(key, start, rule)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
  });

  it('counts every hit of a large burst exactly once, with forgets racing it', async () => {
    // Many writers on one key: the PostgreSQL store's compare-and-swap loses races and must retry
    // or fall back to the row lock, never lose or double a hit.
    const key = freshKey();
    const wide = { windowMs: 15 * MINUTE_MS, limit: 25 };
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => store.hit(key, at(i), wide)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
    const allowedAt = decisions.flatMap((d, i) => (d.allowed ? [at(i)] : []));
    await Promise.all(allowedAt.slice(0, 10).map((hit) => store.forget(key, hit, wide)));
    const after = await Promise.all(Array.from({ length: 15 }, (_, i) => store.hit(key, at(100 + i), wide)));
    expect(after.filter((d) => d.allowed)).toHaveLength(10);
  });

  it('forget gives back one slot recorded at that instant, and ignores unknown keys', async () => {
    const key = freshKey();
    for (let i = 0; i < 3; i++) await store.hit(key, at(i), rule);
    await store.forget(key, at(1), rule);
    expect((await store.hit(key, at(10), rule)).allowed).toBe(true);
    expect((await store.hit(key, at(11), rule)).allowed).toBe(false);
    await expect(store.forget(freshKey(), start, rule)).resolves.toBeUndefined();
  });
});

describe('LoginThrottle when the store is down', () => {
  it('fails open: the attempt proceeds, and the failure is logged and counted', async () => {
    const broken: RateLimitStore = {
      hit: () => Promise.reject(new Error('store unreachable')),
      forget: () => Promise.reject(new Error('store unreachable')),
    };
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line));
    const metrics = createMetrics(logger);
    const throttle = new LoginThrottle(broken, logger, metrics);
    const outcome = await throttle.attempt('203.0.113.7', 'ada@example.com', start);
    expect(outcome.ok).toBe(true);
    expect(metrics.value('ratelimit_store_errors')).toBe(1);
    expect(lines.some((line) => line.includes('rate-limit store unavailable'))).toBe(true);
  });
});
