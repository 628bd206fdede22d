import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from '../../shared/accounts/password.js';
import { FakeClock, HOUR_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const clock = new FakeClock('2026-05-01T08:00:00Z');
let app: TestApp;
let ipCounter = 0;
/** Each test signs in from its own address (TRUSTED_PROXY_HOPS=1), so throttling never leaks between tests. */
const fromNewIp = () => ({ 'x-forwarded-for': `198.51.100.${++ipCounter}` });

beforeAll(async () => {
  app = await startTestApp({ clock, env: { TRUSTED_PROXY_HOPS: '1' } });
});
afterAll(async () => {
  await app?.stop();
});
beforeEach(() => {
  clock.advance(60 * 60 * 1000);
});

async function signup(email: string, password = 'a perfectly fine passphrase') {
  const res = await app.request('POST', '/api/accounts/signup', {
    body: { email, password, name: 'N' },
    headers: fromNewIp(),
  });
  await app.settle();
  return res;
}

describe('signup', () => {
  it('answers the same for a new and an already registered email, and tells the owner instead of re-verifying', async () => {
    const first = await signup('same@example.com');
    const verifyFirst = await app.request('POST', '/api/accounts/verify-email', {
      body: { token: app.tokenFromMail('same@example.com', 'verify-email') },
    });
    expect(verifyFirst.status).toBe(200);
    const mailsBefore = app.mails().length;
    const again = await signup('SAME@example.com');
    expect(again.status).toBe(first.status);
    expect(again.text).toBe(first.text);
    const added = app.mails().slice(mailsBefore);
    expect(added.map((m) => [m.to, m.subject, m.action.type])).toEqual([
      ['same@example.com', 'You already have a SessionForge account', 'password-reset'],
    ]);
  });

  it('does both paths through bcrypt, so timing does not reveal a registered email', async () => {
    const hash = vi.spyOn(PasswordHasher.prototype, 'hash');
    await signup('timing-new@example.com');
    await signup('timing-new@example.com');
    expect(hash).toHaveBeenCalledTimes(2);
    hash.mockRestore();
  });

  it('refuses short, long, breached and NUL-containing passwords with the field named', async () => {
    for (const password of ['short', 'x'.repeat(257), 'password1234', 'abcdefghijkl\u0000mn']) {
      const res = await app.request('POST', '/api/accounts/signup', {
        body: { email: 'weak@example.com', password, name: 'W' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.issues[0].path).toBe('password');
    }
  });

  it('rejects missing, extra and wrong-typed fields with VALIDATION_FAILED and the issues', async () => {
    const cases: Array<[unknown, string]> = [
      [{ email: 'a@example.com', password: 'long enough passphrase' }, 'name'],
      [{ email: 'a@example.com', password: 'long enough passphrase', name: 'A', admin: true }, ''],
      [{ email: 42, password: 'long enough passphrase', name: 'A' }, 'email'],
      [{ email: 'not-an-email', password: 'long enough passphrase', name: 'A' }, 'email'],
      [[], ''],
      [null, ''],
    ];
    for (const [body, path] of cases) {
      const res = await app.request('POST', '/api/accounts/signup', {
        raw: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
  });

  it('a later signup for an unverified account keeps its password and its first link', async () => {
    await signup('pending@example.com', 'first owner passphrase');
    const firstToken = app.tokenFromMail('pending@example.com', 'verify-email');
    await signup('pending@example.com', 'second owner passphrase');
    expect(app.tokenFromMail('pending@example.com', 'verify-email')).toBe(firstToken);
    expect(
      (await app.request('POST', '/api/accounts/verify-email', { body: { token: firstToken } })).status,
    ).toBe(200);
    const second = await app.request('POST', '/api/login', {
      body: { email: 'pending@example.com', password: 'second owner passphrase' },
      headers: fromNewIp(),
    });
    expect(second.status).toBe(401);
    const first = await app.request('POST', '/api/login', {
      body: { email: 'pending@example.com', password: 'first owner passphrase' },
      headers: fromNewIp(),
    });
    expect(first.status).toBe(200);
  });
});

describe('email verification', () => {
  it('a token works once; reuse, unknown and expired tokens answer VALIDATION_FAILED', async () => {
    await signup('verify@example.com');
    const token = app.tokenFromMail('verify@example.com', 'verify-email');
    expect((await app.request('POST', '/api/accounts/verify-email', { body: { token } })).status).toBe(200);
    const reused = await app.request('POST', '/api/accounts/verify-email', { body: { token } });
    expect(reused.status).toBe(400);
    expect(reused.body.error.code).toBe('VALIDATION_FAILED');
    const unknown = await app.request('POST', '/api/accounts/verify-email', {
      body: { token: 'A'.repeat(43) },
    });
    expect(unknown.status).toBe(400);

    await signup('expired@example.com');
    const stale = app.tokenFromMail('expired@example.com', 'verify-email');
    clock.advance(24 * HOUR_MS);
    const expired = await app.request('POST', '/api/accounts/verify-email', { body: { token: stale } });
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('of two concurrent uses of one token exactly one wins', async () => {
    await signup('race@example.com');
    const token = app.tokenFromMail('race@example.com', 'verify-email');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => app.request('POST', '/api/accounts/verify-email', { body: { token } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
  });

  it('stores only the hash of the token', async () => {
    await signup('hashonly@example.com');
    const token = app.tokenFromMail('hashonly@example.com', 'verify-email');
    const rows = await app.runtime.platform.db.selectFrom('one_time_tokens').selectAll().execute();
    const dump = JSON.stringify(rows.map((r) => ({ ...r, token_hash: r.token_hash.toString('base64url') })));
    expect(dump).not.toContain(token);
    const outbox = await app.runtime.platform.db.selectFrom('outbox').selectAll().execute();
    expect(JSON.stringify(outbox)).not.toContain(token);
  });
});

describe('password reset', () => {
  it('answers 202 for known and unknown emails alike, and mails only the known one', async () => {
    const { email } = await app.signupVerifiedAndLogin();
    await app.settle();
    const resetMails = () => app.mails().filter((m) => m.action.type === 'password-reset').length;
    const before = resetMails();
    const known = await app.request('POST', '/api/accounts/password-reset/request', { body: { email } });
    const unknown = await app.request('POST', '/api/accounts/password-reset/request', {
      body: { email: 'nobody@example.com' },
    });
    await app.settle();
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.text).toBe(known.text);
    expect(resetMails()).toBe(before + 1);
  });

  it('sets the new password once, ends every session, and the link is built from APP_URL', async () => {
    const { email, token: session } = await app.signupVerifiedAndLogin();
    await app.request('POST', '/api/accounts/password-reset/request', {
      body: { email },
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    });
    await app.settle();
    const mail = app
      .mails()
      .filter((m) => m.to === email && m.action.type === 'password-reset')
      .at(-1)!;
    expect(mail.action.url.startsWith('http://localhost:8080/reset-password?token=')).toBe(true);
    const token = app.tokenFromMail(email, 'password-reset');

    const weak = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token, newPassword: 'short' },
    });
    expect(weak.status).toBe(400);
    const ok = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token, newPassword: 'brand new passphrase here' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.sessionsRevoked).toBe(1);
    expect((await app.request('GET', '/api/sessions/current', { token: session })).status).toBe(401);
    const reused = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token, newPassword: 'another new passphrase' },
    });
    expect(reused.status).toBe(400);
    const login = await app.request('POST', '/api/login', {
      body: { email, password: 'brand new passphrase here' },
      headers: fromNewIp(),
    });
    expect(login.status).toBe(200);
  });

  it('a reset link expires after one hour', async () => {
    const { email } = await app.signupVerifiedAndLogin();
    await app.request('POST', '/api/accounts/password-reset/request', { body: { email } });
    await app.settle();
    const token = app.tokenFromMail(email, 'password-reset');
    clock.advance(HOUR_MS);
    const res = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token, newPassword: 'brand new passphrase here' },
    });
    expect(res.status).toBe(400);
  });
});

describe('password change', () => {
  it('needs a session and a step-up, then ends the other sessions but keeps this one', async () => {
    const { email, password, token } = await app.signupVerifiedAndLogin();
    const other = await app.request('POST', '/api/login', {
      body: { email, password },
      headers: fromNewIp(),
    });
    const body = { currentPassword: password, newPassword: 'the next good passphrase' };

    expect((await app.request('POST', '/api/accounts/password', { body })).status).toBe(401);
    const noSudo = await app.request('POST', '/api/accounts/password', { body, token });
    expect(noSudo.status).toBe(403);
    expect(noSudo.body.error.code).toBe('STEP_UP_REQUIRED');

    await app.runtime.platform.db
      .updateTable('sessions')
      .set({ sudo_until: new Date(clock.now().getTime() + 10 * 60_000) })
      .where('user_id', '=', (await app.request('GET', '/api/sessions/current', { token })).body.user.id)
      .where('revoked_at', 'is', null)
      .execute();
    const wrong = await app.request('POST', '/api/accounts/password', {
      body: { ...body, currentPassword: 'not the password at all' },
      token,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');

    const changed = await app.request('POST', '/api/accounts/password', { body, token });
    expect(changed.status).toBe(200);
    expect(changed.body.sessionsRevoked).toBe(1);
    expect((await app.request('GET', '/api/sessions/current', { token })).status).toBe(200);
    expect((await app.request('GET', '/api/sessions/current', { token: other.body.token })).status).toBe(401);
  });
});

describe('every answer', () => {
  it('never carries a stack, SQL or a token hash, and always has the security headers', async () => {
    const responses = [
      await app.request('POST', '/api/accounts/signup', {
        raw: '{"email":',
        headers: { 'content-type': 'application/json' },
      }),
      await app.request('POST', '/api/accounts/verify-email', { body: { token: "' or 1=1 --" } }),
      await app.request('GET', '/api/nowhere'),
      await app.request('GET', '/api/sessions/current', { token: 'x'.repeat(43) }),
    ];
    for (const res of responses) {
      expect(res.text).not.toMatch(/at .+\.ts:\d+|select |insert |update |syntax error|\\x[0-9a-f]{16}/i);
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.error.code).toMatch(/^[A-Z_]+$/);
    }
  });
});
