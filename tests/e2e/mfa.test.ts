import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from '../../shared/crypto/seal.js';
import { mfaKeyRing } from '../../shared/mfa/keys.js';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { client, codeAt, enableMfa, mfaStep, passwordStep, stepUpWithCode } from '../helpers/mfa.js';
import {
  createOrg,
  grantMembership,
  newUser,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

let app: TestApp;
const clock = new FakeClock('2026-03-02T09:00:00Z');

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
});
afterAll(async () => {
  await app?.stop();
});

const db = () => app.runtime.platform.db;

async function auditOf(userId: string, action: string) {
  return db()
    .selectFrom('audit_logs')
    .select(['action', 'metadata', 'target_id'])
    .where('chain', '=', `user:${userId}`)
    .where('action', '=', action)
    .orderBy('seq')
    .execute();
}

/** Signs a user with MFA in through both steps from one client; returns the session token. */
async function mfaLogin(user: TestUser, secret: string, headers = client()) {
  const first = await passwordStep(app, user, headers);
  expect(first.status).toBe(401);
  const second = await mfaStep(app, first.body.error.mfaToken, await codeAt(secret, clock.now()), headers);
  expect(second.status).toBe(200);
  clock.advance(30 * SECOND_MS);
  return second.body.token as string;
}

describe('TOTP enrolment', () => {
  it('enrol answers a secret and an otpauth URL; the first valid code turns MFA on and answers 10 backup codes once', async () => {
    const user = await newUser(app, 'enrol');
    user.token = await sudoToken(app, user);
    const enrolled = await app.request('POST', '/api/mfa/totp/enroll', { token: user.token });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolled.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\/SessionForge:/);
    expect(new URL(enrolled.body.otpauthUrl).searchParams.get('secret')).toBe(enrolled.body.secret);

    // Not on yet: login is still password-only.
    expect((await passwordStep(app, user, client())).status).toBe(200);

    const wrong = await app.request('POST', '/api/mfa/totp/confirm', {
      token: user.token,
      body: { code: await codeAt(enrolled.body.secret, new Date(clock.now().getTime() - 5 * MINUTE_MS)) },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');

    const confirmed = await app.request('POST', '/api/mfa/totp/confirm', {
      token: user.token,
      body: { code: await codeAt(enrolled.body.secret, clock.now()) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.backupCodes).toHaveLength(10);
    expect(new Set(confirmed.body.backupCodes).size).toBe(10);
    for (const code of confirmed.body.backupCodes) expect(code).toMatch(/^([a-z2-7]{4}-){3}[a-z2-7]{4}$/);

    const again = await app.request('POST', '/api/mfa/totp/confirm', {
      token: user.token,
      body: { code: await codeAt(enrolled.body.secret, clock.now()) },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    const reenrol = await app.request('POST', '/api/mfa/totp/enroll', { token: user.token });
    expect(reenrol.status).toBe(409);
    expect(reenrol.body.error.code).toBe('CONFLICT');

    const audit = await auditOf(user.userId, 'mfa.enrolled');
    expect(audit).toHaveLength(1);
    expect(audit[0]?.metadata).toMatchObject({ method: 'totp', keyId: 'mfa1' });
  });

  it("enrolment and confirmation need a step-up: a session alone cannot add its holder's authenticator", async () => {
    const user = await newUser(app, 'enrol-sudo');
    const enrol = await app.request('POST', '/api/mfa/totp/enroll', { token: user.token });
    expect([enrol.status, enrol.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);

    // Enrolled from a stepped-up session, confirmed from a session without one: refused, MFA stays off.
    const sudo = await sudoToken(app, user);
    const enrolled = await app.request('POST', '/api/mfa/totp/enroll', { token: sudo });
    expect(enrolled.status).toBe(200);
    const confirm = await app.request('POST', '/api/mfa/totp/confirm', {
      token: user.token,
      body: { code: await codeAt(enrolled.body.secret, clock.now()) },
    });
    expect([confirm.status, confirm.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);
    expect((await passwordStep(app, user, client())).status).toBe(200);
    expect(await auditOf(user.userId, 'mfa.enrolled')).toHaveLength(0);

    // The sudo window ends after 10 minutes; then enrolment is refused again.
    clock.advance(10 * MINUTE_MS + SECOND_MS);
    const late = await app.request('POST', '/api/mfa/totp/enroll', { token: sudo });
    expect([late.status, late.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);
  });

  it('the secret is stored sealed under the mfa key ring with its key id, and backup codes only as hashes', async () => {
    const user = await newUser(app, 'sealed');
    const { secret, backupCodes } = await enableMfa(app, clock, user);
    const row = await db()
      .selectFrom('mfa_totp')
      .selectAll()
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(row.key_id).toBe('mfa1');
    expect(row.secret_sealed).not.toContain(secret);
    const ring = await mfaKeyRing(app.runtime.platform.secrets);
    expect(open(ring, row.secret_sealed, user.userId)?.toString()).toBe(secret);
    // Bound to its user: the same ciphertext does not open as another user's.
    expect(open(ring, row.secret_sealed, '00000000-0000-0000-0000-000000000000')).toBeNull();

    const stored = await db()
      .selectFrom('mfa_backup_codes')
      .select('code_hash')
      .where('user_id', '=', user.userId)
      .execute();
    expect(stored).toHaveLength(10);
    const dump = stored.map((r) => r.code_hash.toString('hex')).join();
    for (const code of backupCodes) expect(dump).not.toContain(Buffer.from(code).toString('hex'));
  });
});

describe('malformed codes', () => {
  const malformed: unknown[] = [
    '12345',
    '1234567',
    '123 456',
    ' 123456',
    '123456 ',
    '１２３４５６',
    '١٢٣٤٥٦',
    '',
    123456,
  ];

  it('5 or 7 digits, spaces, non-ASCII digits and non-strings answer 400 VALIDATION_FAILED on confirm, step-up and MFA login', async () => {
    const user = await newUser(app, 'malformed');
    user.token = await sudoToken(app, user);
    expect((await app.request('POST', '/api/mfa/totp/enroll', { token: user.token })).status).toBe(200);
    for (const code of malformed) {
      const confirm = await app.request('POST', '/api/mfa/totp/confirm', {
        token: user.token,
        body: { code },
      });
      expect(confirm.status, `confirm ${JSON.stringify(code)}`).toBe(400);
      expect(confirm.body.error.code).toBe('VALIDATION_FAILED');
    }
    const enabled = await newUser(app, 'malformed-on');
    const { secret } = await enableMfa(app, clock, enabled);
    const headers = client();
    const first = await passwordStep(app, enabled, headers);
    for (const code of malformed) {
      const stepUp = await stepUpWithCode(app, enabled.token, code as string);
      expect(stepUp.status, `step-up ${JSON.stringify(code)}`).toBe(400);
      expect(stepUp.body.error.code).toBe('VALIDATION_FAILED');
      const login = await mfaStep(app, first.body.error.mfaToken, code as string, headers);
      expect(login.status, `login ${JSON.stringify(code)}`).toBe(400);
      expect(login.body.error.code).toBe('VALIDATION_FAILED');
    }
    // Malformed input is refused before any check, so it neither counts toward the lockout nor spends the token.
    expect(await auditOf(enabled.userId, 'step_up.failed')).toHaveLength(0);
    expect(
      (await mfaStep(app, first.body.error.mfaToken, await codeAt(secret, clock.now()), headers)).status,
    ).toBe(200);
  });
});

describe('login with MFA', () => {
  it('the password step answers 401 MFA_REQUIRED with an mfaToken and no session; the code step answers 200 like password login', async () => {
    const user = await newUser(app, 'login');
    const { secret } = await enableMfa(app, clock, user);
    const headers = client();
    const first = await passwordStep(app, user, headers);
    expect(first.status).toBe(401);
    expect(first.body.error.code).toBe('MFA_REQUIRED');
    expect(first.body.error.mfaToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.body.token).toBeUndefined();
    expect(first.headers.get('set-cookie')).toBeNull();

    const second = await mfaStep(app, first.body.error.mfaToken, await codeAt(secret, clock.now()), headers);
    expect(second.status).toBe(200);
    expect(Object.keys(second.body).sort()).toEqual(['session', 'token', 'user']);
    expect(second.body.user).toEqual({ id: user.userId, email: user.email, name: 'login' });
    expect(second.headers.get('set-cookie')).toMatch(/^__Host-sf_session=[^;]+; .*HttpOnly/);
    const me = await app.request('GET', '/api/sessions/current', { token: second.body.token });
    expect(me.status).toBe(200);
    const audit = await auditOf(user.userId, 'login.succeeded');
    expect(audit.at(-1)?.metadata).toMatchObject({ method: 'password+totp' });
  });

  it('a wrong password still answers INVALID_CREDENTIALS, without an mfaToken', async () => {
    const user = await newUser(app, 'wrongpw');
    await enableMfa(app, clock, user);
    const res = await app.request('POST', '/api/login', {
      body: { email: user.email, password: 'not the right password' },
      headers: client(),
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(res.body.error.mfaToken).toBeUndefined();
  });

  it('the mfaToken is single use', async () => {
    const user = await newUser(app, 'reuse');
    const { secret } = await enableMfa(app, clock, user);
    const headers = client();
    const { mfaToken } = (await passwordStep(app, user, headers)).body.error;
    expect((await mfaStep(app, mfaToken, await codeAt(secret, clock.now()), headers)).status).toBe(200);
    clock.advance(30 * SECOND_MS);
    const reused = await mfaStep(app, mfaToken, await codeAt(secret, clock.now()), headers);
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('the mfaToken works at 4:59 and is refused at 5:00', async () => {
    const user = await newUser(app, 'expiry');
    const { secret } = await enableMfa(app, clock, user);
    const headers = client();
    const early = (await passwordStep(app, user, headers)).body.error.mfaToken;
    const late = (await passwordStep(app, user, headers)).body.error.mfaToken;
    clock.advance(4 * MINUTE_MS + 59 * SECOND_MS);
    expect((await mfaStep(app, early, await codeAt(secret, clock.now()), headers)).status).toBe(200);
    clock.advance(1 * SECOND_MS + 30 * SECOND_MS);
    const expired = await mfaStep(app, late, await codeAt(secret, clock.now()), headers);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('the mfaToken is refused from another address or another User-Agent, and still works from its own client', async () => {
    const user = await newUser(app, 'client');
    const { secret } = await enableMfa(app, clock, user);
    const headers = client('198.51.100.7', 'browser-a');
    const { mfaToken } = (await passwordStep(app, user, headers)).body.error;
    for (const other of [client('198.51.100.8', 'browser-a'), client('198.51.100.7', 'browser-b')]) {
      const res = await mfaStep(app, mfaToken, await codeAt(secret, clock.now()), other);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    expect((await mfaStep(app, mfaToken, await codeAt(secret, clock.now()), headers)).status).toBe(200);
  });

  it('the second step has login’s per-IP limit: the 11th attempt from one address in 15 minutes answers 429', async () => {
    const headers = client();
    for (let i = 0; i < 10; i++) {
      const res = await mfaStep(app, `${'B'.repeat(40)}${String(i).padStart(3, '0')}`, '123456', headers);
      expect(res.status).toBe(401);
    }
    const limited = await mfaStep(app, 'C'.repeat(43), '123456', headers);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await mfaStep(app, 'C'.repeat(43), '123456', client())).status).toBe(401);
  });

  it('an unknown mfaToken answers 401 UNAUTHENTICATED', async () => {
    const res = await mfaStep(app, 'A'.repeat(43), '123456', client());
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });
});

describe('replay protection', () => {
  it('the same TOTP code is accepted once: a second use, in login or step-up, is refused', async () => {
    const user = await newUser(app, 'replay');
    const { secret } = await enableMfa(app, clock, user);
    const code = await codeAt(secret, clock.now());
    const stepped = await stepUpWithCode(app, user.token, code);
    expect(stepped.status).toBe(200);
    const again = await stepUpWithCode(app, stepped.body.token, code);
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('INVALID_CREDENTIALS');
    const headers = client();
    const { mfaToken } = (await passwordStep(app, user, headers)).body.error;
    const login = await mfaStep(app, mfaToken, code, headers);
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('once a newer step is accepted, a code of the older step is refused though still inside the ±1 window', async () => {
    const user = await newUser(app, 'older');
    const { secret } = await enableMfa(app, clock, user);
    const older = await codeAt(secret, clock.now());
    clock.advance(30 * SECOND_MS);
    const newer = await codeAt(secret, clock.now());
    const stepped = await stepUpWithCode(app, user.token, newer);
    expect(stepped.status).toBe(200);
    const res = await stepUpWithCode(app, stepped.body.token, older);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('two concurrent step-ups with one code: exactly one wins', async () => {
    const user = await newUser(app, 'race');
    const { secret } = await enableMfa(app, clock, user);
    const other = await mfaLogin(user, secret);
    const code = await codeAt(secret, clock.now());
    const answers = await Promise.all([
      stepUpWithCode(app, user.token, code),
      stepUpWithCode(app, other, code),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
  });

  it('two concurrent second login steps with one code: exactly one session starts', async () => {
    const user = await newUser(app, 'race-login');
    const { secret } = await enableMfa(app, clock, user);
    const a = client();
    const b = client();
    const tokenA = (await passwordStep(app, user, a)).body.error.mfaToken;
    const tokenB = (await passwordStep(app, user, b)).body.error.mfaToken;
    const code = await codeAt(secret, clock.now());
    const answers = await Promise.all([mfaStep(app, tokenA, code, a), mfaStep(app, tokenB, code, b)]);
    expect(answers.map((x) => x.status).sort()).toEqual([200, 401]);
  });

  it('one mfaToken submitted twice at once with two valid codes: exactly one session starts', async () => {
    const user = await newUser(app, 'race-token');
    const { secret, backupCodes } = await enableMfa(app, clock, user);
    const headers = client();
    const { mfaToken } = (await passwordStep(app, user, headers)).body.error;
    const answers = await Promise.all([
      mfaStep(app, mfaToken, await codeAt(secret, clock.now()), headers),
      mfaStep(app, mfaToken, backupCodes[0] as string, headers),
    ]);
    expect(answers.map((x) => x.status).sort()).toEqual([200, 401]);
  });
});

describe('backup codes', () => {
  it('a backup code signs in once; the second use is refused', async () => {
    const user = await newUser(app, 'backup');
    const { backupCodes } = await enableMfa(app, clock, user);
    const code = backupCodes[3] as string;
    const headers = client();
    const first = await mfaStep(
      app,
      (await passwordStep(app, user, headers)).body.error.mfaToken,
      code,
      headers,
    );
    expect(first.status).toBe(200);
    const audit = await auditOf(user.userId, 'login.succeeded');
    expect(audit.at(-1)?.metadata).toMatchObject({ method: 'password+backup_code' });
    const second = await mfaStep(
      app,
      (await passwordStep(app, user, headers)).body.error.mfaToken,
      code,
      headers,
    );
    expect(second.status).toBe(401);
    expect(second.body.error.code).toBe('INVALID_CREDENTIALS');
    // Typed in capitals without hyphens it is the same (spent) code.
    const shouted = code.replaceAll('-', '').toUpperCase();
    expect((await stepUpWithCode(app, user.token, shouted)).status).toBe(401);
  });

  it('one backup code used by two concurrent step-ups: exactly one wins', async () => {
    const user = await newUser(app, 'backup-race');
    const { secret, backupCodes } = await enableMfa(app, clock, user);
    const other = await mfaLogin(user, secret);
    const code = backupCodes[0] as string;
    const answers = await Promise.all([
      stepUpWithCode(app, user.token, code),
      stepUpWithCode(app, other, code),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
  });

  it('regenerating needs step-up, answers 10 new codes, and the old ones stop working', async () => {
    const user = await newUser(app, 'regen');
    const { secret, backupCodes: old } = await enableMfa(app, clock, user);
    const refused = await app.request('POST', '/api/mfa/backup-codes', { token: user.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('STEP_UP_REQUIRED');

    const stepped = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    expect(stepped.status).toBe(200);
    const fresh = await app.request('POST', '/api/mfa/backup-codes', { token: stepped.body.token });
    expect(fresh.status).toBe(200);
    expect(fresh.body.backupCodes).toHaveLength(10);
    expect(fresh.body.backupCodes.filter((c: string) => old.includes(c))).toEqual([]);

    const headers = client();
    const withOld = await mfaStep(
      app,
      (await passwordStep(app, user, headers)).body.error.mfaToken,
      old[1] as string,
      headers,
    );
    expect(withOld.status).toBe(401);
    const withNew = await mfaStep(
      app,
      (await passwordStep(app, user, headers)).body.error.mfaToken,
      fresh.body.backupCodes[1],
      headers,
    );
    expect(withNew.status).toBe(200);
  });
});

describe('lockout', () => {
  it('five wrong codes in a row lock step-up and MFA login for 15 minutes, audited; the lock then ends', async () => {
    const user = await newUser(app, 'lock');
    const { secret } = await enableMfa(app, clock, user);
    const headers = client();
    const { mfaToken } = (await passwordStep(app, user, headers)).body.error;
    const wrong = String((Number(await codeAt(secret, clock.now())) + 1) % 1_000_000).padStart(6, '0');

    for (let i = 0; i < 3; i++) {
      const res = await stepUpWithCode(app, user.token, wrong);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    }
    // Login's second step counts toward the same per-user lock.
    expect((await mfaStep(app, mfaToken, wrong, headers)).status).toBe(401);
    expect((await mfaStep(app, mfaToken, 'aaaa-aaaa-aaaa-aaaa', headers)).status).toBe(401);

    const right = await codeAt(secret, clock.now());
    const locked = await stepUpWithCode(app, user.token, right);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBe(15 * 60);
    const lockedLogin = await mfaStep(app, mfaToken, right, headers);
    expect(lockedLogin.status).toBe(429);
    expect(lockedLogin.body.error.code).toBe('RATE_LIMITED');

    const failures = [
      ...(await auditOf(user.userId, 'step_up.failed')),
      ...(await auditOf(user.userId, 'login.failed')),
    ];
    expect(failures.filter((f) => f.metadata.reason === 'wrong_code')).toHaveLength(5);
    expect(failures.filter((f) => f.metadata.reason === 'locked')).toHaveLength(2);
    expect(failures.filter((f) => typeof f.metadata.lockedUntil === 'string')).toHaveLength(1);

    clock.advance(15 * MINUTE_MS - SECOND_MS);
    expect((await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()))).status).toBe(429);
    clock.advance(SECOND_MS);
    const after = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    expect(after.status).toBe(200);
  });

  it('a right code resets the count: wrong codes are counted in a row, not in total', async () => {
    const user = await newUser(app, 'reset-count');
    const { secret } = await enableMfa(app, clock, user);
    let token = user.token;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) expect((await stepUpWithCode(app, token, '000000')).status).toBe(401);
      const ok = await stepUpWithCode(app, token, await codeAt(secret, clock.now()));
      expect(ok.status).toBe(200);
      token = ok.body.token;
      clock.advance(30 * SECOND_MS);
    }
  });
});

describe('step-up', () => {
  it('users with MFA step up with a code, not the password; users without use the password, not a code', async () => {
    const withMfa = await newUser(app, 'stepup-mfa');
    await enableMfa(app, clock, withMfa);
    const byPassword = await app.request('POST', '/api/sessions/step-up', {
      token: withMfa.token,
      body: { password: withMfa.password },
    });
    expect(byPassword.status).toBe(400);
    expect(byPassword.body.error.code).toBe('VALIDATION_FAILED');

    const without = await newUser(app, 'stepup-pw');
    const byCode = await stepUpWithCode(app, without.token, '123456');
    expect(byCode.status).toBe(400);
    expect(byCode.body.error.code).toBe('VALIDATION_FAILED');
    const both = await app.request('POST', '/api/sessions/step-up', {
      token: without.token,
      body: { password: without.password, code: '123456' },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe('VALIDATION_FAILED');
    const ok = await app.request('POST', '/api/sessions/step-up', {
      token: without.token,
      body: { password: without.password },
    });
    expect(ok.status).toBe(200);
  });

  it('the step-up window lasts 10 minutes (9:59 yes, 10:01 no), replaces the token, and is audited', async () => {
    const user = await newUser(app, 'window');
    const { secret } = await enableMfa(app, clock, user);
    const stepped = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    expect(stepped.status).toBe(200);
    expect(new Date(stepped.body.sudoUntil).getTime() - clock.now().getTime()).toBe(10 * MINUTE_MS);
    expect((await app.request('GET', '/api/sessions/current', { token: user.token })).status).toBe(401);

    clock.advance(9 * MINUTE_MS + 59 * SECOND_MS);
    expect((await app.request('POST', '/api/mfa/backup-codes', { token: stepped.body.token })).status).toBe(
      200,
    );
    clock.advance(2 * SECOND_MS);
    const late = await app.request('POST', '/api/mfa/backup-codes', { token: stepped.body.token });
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('STEP_UP_REQUIRED');

    const audit = await auditOf(user.userId, 'step_up.succeeded');
    expect(audit.at(-1)?.metadata).toMatchObject({ method: 'totp' });
  });

  it('step-up belongs to the session that did it: the user’s other session is still refused', async () => {
    const user = await newUser(app, 'not-shared');
    const { secret } = await enableMfa(app, clock, user);
    const other = await mfaLogin(user, secret);
    const stepped = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    expect(stepped.status).toBe(200);
    const res = await app.request('POST', '/api/mfa/backup-codes', { token: other });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('STEP_UP_REQUIRED');
    const pw = await app.request('POST', '/api/accounts/password', {
      token: other,
      body: { currentPassword: user.password, newPassword: 'another long passphrase 77' },
    });
    expect(pw.status).toBe(403);
    expect(pw.body.error.code).toBe('STEP_UP_REQUIRED');
    expect((await app.request('DELETE', '/api/mfa/totp', { token: other })).status).toBe(403);
  });
});

describe('turning MFA off', () => {
  it('needs step-up; then login is password-only again, the codes are gone, and mfa.disabled is audited', async () => {
    const user = await newUser(app, 'disable');
    const { secret } = await enableMfa(app, clock, user);
    const refused = await app.request('DELETE', '/api/mfa/totp', { token: user.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('STEP_UP_REQUIRED');

    const stepped = await stepUpWithCode(app, user.token, await codeAt(secret, clock.now()));
    const off = await app.request('DELETE', '/api/mfa/totp', { token: stepped.body.token });
    expect(off.status).toBe(204);
    expect(await auditOf(user.userId, 'mfa.disabled')).toHaveLength(1);
    expect((await passwordStep(app, user, client())).status).toBe(200);
    const rows = await db()
      .selectFrom('mfa_backup_codes')
      .select('user_id')
      .where('user_id', '=', user.userId)
      .execute();
    expect(rows).toHaveLength(0);
    const twice = await app.request('DELETE', '/api/mfa/totp', { token: stepped.body.token });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('CONFLICT');
  });
});

describe('orgs that require MFA', () => {
  it('refuse members without MFA with 403 INSUFFICIENT_ROLE (requirement "mfa"), and let them in once MFA is on', async () => {
    const owner = await newUser(app, 'req-owner');
    const org = await createOrg(app, owner);
    const member = await newUser(app, 'req-member');
    await grantMembership(app, org.id, member.userId, 'member');
    const members = (token: string) => app.request('GET', `/api/orgs/${org.id}/members`, { token });
    expect((await members(member.token)).status).toBe(200);

    await db().updateTable('orgs').set({ require_mfa: true }).where('id', '=', org.id).execute();
    for (const user of [member, owner]) {
      const refused = await members(user.token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('INSUFFICIENT_ROLE');
      expect(refused.body.error.requirement).toBe('mfa');
      expect(refused.body.error.message).toMatch(/multi-factor/);
    }
    // Still allowed: routes outside the org, so the member can enrol.
    await enableMfa(app, clock, member);
    expect((await members(member.token)).status).toBe(200);
    // A non-member still learns nothing about the org.
    const stranger = await newUser(app, 'req-stranger');
    expect((await members(stranger.token)).status).toBe(404);
  });
});
