import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Bursts against the login limits through HTTP, on whichever engine DATABASE_URL names: the
 * PostgreSQL store's compare-and-swap (two statements, write only if unchanged, then the row
 * lock after lost races) must not let concurrent attempts past the limit, and neither spoofed
 * X-Forwarded-For entries nor the address cache may split one client into many buckets.
 */
let app: TestApp;
let user: { email: string; password: string; token: string; userId: string };
let uniqueUser: { email: string; password: string };

beforeAll(async () => {
  app = await startTestApp({ env: { TRUSTED_PROXY_HOPS: '1' } });
  user = await app.signupVerifiedAndLogin();
  uniqueUser = await app.signupVerifiedAndLogin();
});
afterAll(async () => {
  await app?.stop();
});

const login = (body: unknown, xff: string) =>
  app.request('POST', '/api/login', { body, headers: { 'x-forwarded-for': xff } });

describe('login limits under a burst', () => {
  it('50 concurrent wrong-password attempts from one address: at most 10 are judged, the rest 429', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        login({ email: user.email, password: `wrong password ${i}!` }, '198.51.100.50'),
      ),
    );
    const judged = answers.filter((a) => a.status !== 429);
    expect(judged.length).toBeLessThanOrEqual(10);
    expect(judged.every((a) => a.status === 401)).toBe(true);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(50 - judged.length);
    // The right password from the same address is refused too: the window is full.
    expect((await login({ email: user.email, password: user.password }, '198.51.100.50')).status).toBe(429);
  });

  it('a concurrent mix of right and wrong passwords from one address gets no more than 10 answers', async () => {
    // Successes give back the account slot (a forget racing the hits): the address limit still holds.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        login(
          { email: uniqueUser.email, password: i % 2 ? uniqueUser.password : `wrong ${i} password!` },
          '198.51.100.51',
        ),
      ),
    );
    expect(answers.filter((a) => a.status !== 429).length).toBeLessThanOrEqual(10);
  });

  it('spoofed leftmost X-Forwarded-For entries do not make a client many (TRUSTED_PROXY_HOPS=1)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login({ email: user.email, password: `wrong password ${i}!` }, `10.0.${i}.1, 198.51.100.52`),
      ),
    );
    expect(answers.filter((a) => a.status !== 429).length).toBeLessThanOrEqual(10);
  });

  it('spellings of one address (port, brackets, mapped IPv6) share one bucket, cached or not', async () => {
    const spellings = [
      '198.51.100.53',
      '198.51.100.53:4000',
      '[::ffff:198.51.100.53]',
      '::ffff:198.51.100.53',
      '[::ffff:c633:6435]:80',
    ];
    const answers = [];
    for (let round = 0; round < 3; round++) {
      for (const spelling of spellings) {
        answers.push(await login({ email: user.email, password: 'wrong password again!' }, spelling));
      }
    }
    expect(answers.filter((a) => a.status !== 429)).toHaveLength(10);
  });
});

describe('without a trusted proxy (TRUSTED_PROXY_HOPS=0)', () => {
  it('ignores X-Forwarded-For entirely: varied headers from one socket share one bucket', async () => {
    const direct = await startTestApp({ env: { TRUSTED_PROXY_HOPS: '0' } });
    try {
      const answers = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          direct.request('POST', '/api/login', {
            body: { email: 'nobody@example.com', password: `wrong password ${i}!` },
            headers: { 'x-forwarded-for': `198.18.${i}.1` },
          }),
        ),
      );
      expect(answers.filter((a) => a.status !== 429).length).toBeLessThanOrEqual(10);
      expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(15);
    } finally {
      await direct.stop();
    }
  });
});
