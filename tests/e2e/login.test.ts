import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from '../../shared/accounts/password.js';
import { PostgresRateLimitStore } from '../../shared/ratelimit/postgres-store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
let user: { email: string; password: string; token: string; userId: string };
let ipCounter = 0;
const newIp = () => `203.0.113.${++ipCounter}`;
/** TRUSTED_PROXY_HOPS=1: the client address is the rightmost X-Forwarded-For entry. */
const from = (ip: string) => ({ 'x-forwarded-for': `10.9.9.9, ${ip}` });

beforeAll(async () => {
  app = await startTestApp({ env: { TRUSTED_PROXY_HOPS: '1' } });
  user = await app.signupVerifiedAndLogin();
});
afterAll(async () => {
  await app?.stop();
});

const login = (body: unknown, ip: string) => app.request('POST', '/api/login', { body, headers: from(ip) });

describe('password login', () => {
  it('unknown email, wrong password and disabled user get the same status and body, each after a bcrypt comparison', async () => {
    const dummy = vi.spyOn(PasswordHasher.prototype, 'verifyDummy');
    const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
    const wrongPassword = await login({ email: user.email, password: 'not the right password' }, newIp());
    expect(verify).toHaveBeenCalledTimes(1);
    const unknown = await login({ email: 'ghost@example.com', password: 'not the right password' }, newIp());
    expect(dummy).toHaveBeenCalledTimes(1);

    const disabled = await app.signupVerifiedAndLogin();
    await app.runtime.platform.db
      .updateTable('users')
      .set({ disabled_at: new Date() })
      .where('id', '=', disabled.userId)
      .execute();
    const disabledAnswer = await login({ email: disabled.email, password: disabled.password }, newIp());
    expect(dummy).toHaveBeenCalledTimes(2);

    for (const res of [wrongPassword, unknown, disabledAnswer]) {
      expect(res.status).toBe(401);
      expect(res.text).toBe(wrongPassword.text);
    }
    expect(wrongPassword.body.error.code).toBe('INVALID_CREDENTIALS');
    dummy.mockRestore();
    verify.mockRestore();
  });

  it('a disabled user’s existing session stops working', async () => {
    const victim = await app.signupVerifiedAndLogin();
    await app.runtime.platform.db
      .updateTable('users')
      .set({ disabled_at: new Date() })
      .where('id', '=', victim.userId)
      .execute();
    expect((await app.request('GET', '/api/sessions/current', { token: victim.token })).status).toBe(401);
  });

  it('the 11th attempt from one client IP inside 15 minutes answers 429 with Retry-After, before bcrypt runs', async () => {
    const ip = newIp();
    for (let i = 0; i < 10; i++) {
      expect((await login({ email: user.email, password: `wrong password ${i}!` }, ip)).status).toBe(401);
    }
    const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
    const limited = await login({ email: user.email, password: user.password }, ip);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
    expect(verify).not.toHaveBeenCalled();
    verify.mockRestore();
    // Another address is not affected.
    expect((await login({ email: user.email, password: user.password }, newIp())).status).toBe(200);
  });

  it('IPv6 clients share one window per /64', async () => {
    for (let i = 0; i < 10; i++)
      await login({ email: 'nobody@example.com', password: 'whatever password' }, `2001:db8:77:1::${i + 1}`);
    expect(
      (await login({ email: user.email, password: user.password }, '2001:db8:77:1:ffff::9')).status,
    ).toBe(429);
    expect((await login({ email: user.email, password: user.password }, '2001:db8:77:2::1')).status).toBe(
      200,
    );
  });

  it('a burst of concurrent attempts lets at most 10 through to bcrypt', async () => {
    const ip = newIp();
    const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => login({ email: user.email, password: `wrong burst ${i}!!` }, ip)),
    );
    expect(results.filter((r) => r.status === 429)).toHaveLength(15);
    expect(verify.mock.calls.length).toBeLessThanOrEqual(10);
    verify.mockRestore();
  });

  it('an account takes at most 100 failures per window, whatever the addresses', async () => {
    const target = await app.signupVerifiedAndLogin();
    for (let i = 0; i < 100; i++)
      await login({ email: target.email, password: `guess number ${i}` }, newIp());
    const blocked = await login({ email: target.email, password: target.password }, newIp());
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).not.toBeNull();
  });

  it('successful logins do not count as account failures', async () => {
    const regular = await app.signupVerifiedAndLogin();
    for (let i = 0; i < 105; i++) {
      expect((await login({ email: regular.email, password: regular.password }, newIp())).status).toBe(200);
    }
    // 105 bcrypt verifications: minutes, not seconds, on a loaded 2-core CI machine.
  }, 180_000);

  it('fails open when the rate-limit store is down: login works, the failure is logged and counted', async () => {
    const hit = vi.spyOn(PostgresRateLimitStore.prototype, 'hit').mockRejectedValue(new Error('store down'));
    const before = app.runtime.platform.metrics.value('ratelimit_store_errors');
    const res = await login({ email: user.email, password: user.password }, newIp());
    expect(res.status).toBe(200);
    expect(app.runtime.platform.metrics.value('ratelimit_store_errors')).toBe(before + 1);
    hit.mockRestore();
  });

  it('presenting the stored token hash as a token fails', async () => {
    const res = await login({ email: user.email, password: user.password }, newIp());
    const row = await app.runtime.platform.db
      .selectFrom('sessions')
      .select('token_hash')
      .where('id', '=', res.body.session.id)
      .executeTakeFirstOrThrow();
    const forged = row.token_hash.toString('base64url');
    expect(forged).toHaveLength(43);
    expect((await app.request('GET', '/api/sessions/current', { token: forged })).status).toBe(401);
    expect((await app.request('GET', '/api/sessions/current', { token: res.body.token })).status).toBe(200);
  });

  it('a session lasts 14 days at most and idles out after 1440 minutes by default', async () => {
    const res = await login({ email: user.email, password: user.password }, newIp());
    const created = Date.now();
    expect(new Date(res.body.session.expiresAt).getTime() - created).toBeGreaterThan(
      14 * 86_400_000 - 60_000,
    );
    expect(new Date(res.body.session.expiresAt).getTime() - created).toBeLessThanOrEqual(
      14 * 86_400_000 + 1000,
    );
    expect(new Date(res.body.session.idleExpiresAt).getTime() - created).toBeLessThanOrEqual(
      1440 * 60_000 + 1000,
    );
  });
});

describe('request edge', () => {
  it('refuses bodies over 1 MiB with 413 before reading them whole', async () => {
    const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1024 * 1024), name: 'n' });
    const res = await app.request('POST', '/api/login', {
      raw: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a non-JSON content type with 415 and compressed bodies (gzip bombs) with 415', async () => {
    const form = await app.request('POST', '/api/login', {
      raw: 'email=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    const gz = await app.request('POST', '/api/login', {
      raw: bomb,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(gz.status).toBe(415);
  });

  it('answers malformed JSON with VALIDATION_FAILED, and a missing body likewise', async () => {
    const bad = await app.request('POST', '/api/login', {
      raw: '{"email": "a@',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const none = await app.request('POST', '/api/login');
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('routes on the normalized path, answers unknown routes with NOT_FOUND and a wrong method with METHOD_NOT_ALLOWED', async () => {
    expect((await app.request('GET', '/api/health/../health')).status).toBe(200);
    expect((await app.request('GET', '/api/health/%2e%2e/sessions/current')).status).toBe(401);
    const unknown = await app.request('GET', '/api/login/nowhere');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const wrongMethod = await app.request('DELETE', '/api/login');
    expect([wrongMethod.status, wrongMethod.body.error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('API keys are never accepted on user routes', async () => {
    const res = await app.request('GET', '/api/sessions/current', { token: `sf_live_${'a'.repeat(40)}` });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });
});
