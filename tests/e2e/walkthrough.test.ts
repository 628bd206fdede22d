import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('README walk-through: signup → verify → login → current → logout', () => {
  it('works end to end through HTTP', async () => {
    const email = 'ada@example.com';
    const password = 'correct horse battery staple';

    const signup = await app.request('POST', '/api/accounts/signup', {
      body: { email, password, name: 'Ada' },
    });
    expect(signup.status).toBe(202);
    expect(signup.body).toEqual({ status: 'verification_sent' });

    await app.settle();
    const mail = app.mails().find((m) => m.to === email);
    expect(mail?.action.type).toBe('verify-email');
    expect(mail?.action.url.startsWith('http://localhost:8080/verify-email?token=')).toBe(true);

    const beforeVerify = await app.request('POST', '/api/login', { body: { email, password } });
    expect(beforeVerify.status).toBe(403);
    expect(beforeVerify.body.error.code).toBe('EMAIL_NOT_VERIFIED');

    const verify = await app.request('POST', '/api/accounts/verify-email', {
      body: { token: app.tokenFromMail(email, 'verify-email') },
    });
    expect(verify.status).toBe(200);
    expect(verify.body).toEqual({ status: 'verified' });

    const login = await app.request('POST', '/api/login', { body: { email, password } });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ email, name: 'Ada' });
    expect(login.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-sf_session=[A-Za-z0-9_-]{43};/);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/'])
      expect(cookie).toContain(attribute);
    expect(cookie).not.toMatch(/Domain=/i);

    const current = await app.request('GET', '/api/sessions/current', { token: login.body.token });
    expect(current.status).toBe(200);
    expect(current.body.session.id).toBe(login.body.session.id);
    expect(current.body.user.email).toBe(email);

    const byCookie = await app.request('GET', '/api/sessions/current', {
      headers: { cookie: `__Host-sf_session=${login.body.token}` },
    });
    expect(byCookie.status).toBe(200);

    const logout = await app.request('POST', '/api/login/logout', { token: login.body.token });
    expect(logout.status).toBe(204);

    const after = await app.request('GET', '/api/sessions/current', { token: login.body.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('serves health and the OpenAPI document', async () => {
    expect((await app.request('GET', '/api/health')).body).toEqual({ status: 'ok' });
    const doc = await app.request('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/accounts/signup',
        '/api/login',
        '/api/sessions/current',
        '/api/login/logout',
      ]),
    );
  });
});

describe('client address with TRUSTED_PROXY_HOPS=0', () => {
  it('ignores X-Forwarded-For: spoofed addresses do not escape the per-IP limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await app.request('POST', '/api/login', {
        body: { email: 'nobody@example.com', password: 'some password here' },
        headers: { 'x-forwarded-for': `192.0.2.${i}` },
      });
      statuses.push(res.status);
    }
    // Earlier tests in this file already signed in from 127.0.0.1, so the limit arrives within 11 tries.
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.indexOf(429)).toBeLessThanOrEqual(10);
    expect(statuses.at(-1)).toBe(429);
  });
});
