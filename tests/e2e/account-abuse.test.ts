import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from '../../shared/accounts/password.js';
import '../../shared/sessions/tables.js';
import { FakeClock, HOUR_MS, MINUTE_MS } from '../../shared/time/clock.js';
import { type ApiResponse, startTestApp, type TestApp } from '../helpers/app.js';
import { type FakeGoogleCerts, fakeGoogleCerts } from '../helpers/firebase.js';

const clock = new FakeClock('2026-06-01T08:00:00Z');
let app: TestApp;
let google: FakeGoogleCerts;
let counter = 0;
const freshEmail = (label: string) => `${label}${++counter}-${Date.now()}@example.com`;
/** Each call is a new client address (the app trusts one proxy hop). */
const fromNewIp = () => ({ 'x-forwarded-for': `203.0.${113 + (counter >> 8)}.${++counter & 255}` });
const from = (ip: string) => ({ 'x-forwarded-for': ip });

beforeAll(async () => {
  google = await fakeGoogleCerts();
  app = await startTestApp({
    clock,
    env: { TRUSTED_PROXY_HOPS: '1', FIREBASE_PROJECT_ID: google.projectId },
  });
}, 180_000);
afterAll(async () => {
  await app?.stop();
  await google?.stop();
});
beforeEach(() => {
  // Every test starts with empty windows: the longest one (mails per recipient) is an hour.
  clock.advance(HOUR_MS);
});

function signup(email: string, password: string, name: string, headers = fromNewIp()) {
  return app.request('POST', '/api/accounts/signup', { body: { email, password, name }, headers });
}

function login(email: string, password: string) {
  return app.request('POST', '/api/login', { body: { email, password }, headers: fromNewIp() });
}

function requestReset(email: string, headers = fromNewIp()) {
  return app.request('POST', '/api/accounts/password-reset/request', { body: { email }, headers });
}

function mailsTo(email: string) {
  return app.mails().filter((m) => m.to.toLowerCase() === email.toLowerCase());
}

const alreadyRegistered = (email: string) =>
  mailsTo(email).filter((m) => m.subject === 'You already have a SessionForge account');

/** A 429 says when to try again in words that match its Retry-After. */
function expectRateLimited(res: ApiResponse, what: string): void {
  expect(res.status, res.text).toBe(429);
  expect(res.body.error.code).toBe('RATE_LIMITED');
  const seconds = Number(res.headers.get('retry-after'));
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(15 * 60);
  const minutes = Math.ceil(seconds / 60);
  const words =
    seconds < 60
      ? `${seconds} second${seconds === 1 ? '' : 's'}`
      : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  expect(res.body.error.message).toBe(`${what} Try again in ${words}.`);
}

async function rateLimitKeys(): Promise<string[]> {
  const rows = await app.runtime.platform.db.selectFrom('rate_limits').select('key').execute();
  return rows.map((r) => r.key).sort();
}

describe('re-signup of a taken address', () => {
  it('an attacker signing up again cannot plant a password: the victim’s first link verifies the victim’s password', async () => {
    const email = freshEmail('victim');
    const first = await signup(email, 'the victim passphrase 1', 'Victim');
    await app.settle();
    const victimLink = app.tokenFromMail(email, 'verify-email');

    const second = await signup(email.toUpperCase(), 'the attacker passphrase 2', 'Attacker');
    await app.settle();
    expect(second.status).toBe(first.status);
    expect(second.text).toBe(first.text);

    const verified = await app.request('POST', '/api/accounts/verify-email', {
      body: { token: victimLink },
      headers: fromNewIp(),
    });
    expect(verified.status, verified.text).toBe(200);

    const attacker = await login(email, 'the attacker passphrase 2');
    expect(attacker.status).toBe(401);
    expect(attacker.body.error.code).toBe('INVALID_CREDENTIALS');
    const victim = await login(email, 'the victim passphrase 1');
    expect(victim.status, victim.text).toBe(200);
    expect(victim.body.user.name).toBe('Victim');
    // No second verification link was ever issued.
    expect(mailsTo(email).filter((m) => m.action.type === 'verify-email')).toHaveLength(1);
  });

  it('mails the owner a note with a reset link that works, and changes nothing until it is used', async () => {
    const email = freshEmail('owner');
    await signup(email, 'the owner passphrase 11', 'Owner');
    await app.settle();
    await app.request('POST', '/api/accounts/verify-email', {
      body: { token: app.tokenFromMail(email, 'verify-email') },
      headers: fromNewIp(),
    });
    await signup(email, 'someone elses passphrase', 'Someone');
    await app.settle();

    const notes = alreadyRegistered(email);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.text).toContain('already has a SessionForge account');
    expect(notes[0]?.action.url).toMatch(/^http:\/\/localhost:8080\/reset-password\?token=/);
    expect((await login(email, 'the owner passphrase 11')).status).toBe(200);
    expect((await login(email, 'someone elses passphrase')).status).toBe(401);

    const reset = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token: app.tokenFromMail(email, 'password-reset'), newPassword: 'the owner chose anew' },
      headers: fromNewIp(),
    });
    expect(reset.status, reset.text).toBe(200);
    expect((await login(email, 'the owner chose anew')).status).toBe(200);
  });

  it('answers a new and a taken address alike, and pays for one bcrypt hash on both paths', async () => {
    const email = freshEmail('same');
    const hash = vi.spyOn(PasswordHasher.prototype, 'hash');
    const fresh = await signup(email, 'a perfectly fine passphrase', 'A');
    const taken = await signup(email, 'another fine passphrase', 'B');
    expect(hash).toHaveBeenCalledTimes(2);
    hash.mockRestore();
    expect(taken.status).toBe(202);
    expect(taken.text).toBe(fresh.text);
    expect([...taken.headers.keys()].sort()).toEqual([...fresh.headers.keys()].sort());
  });

  it('a password-less account (made by Google sign-in) gets the note, and the reset sets its first password', async () => {
    const email = freshEmail('passwordless');
    const oauth = await app.request('POST', '/api/login/oauth', {
      body: { idToken: await google.idToken({ claims: { email } }) },
      headers: fromNewIp(),
    });
    expect(oauth.status, oauth.text).toBe(200);

    const again = await signup(email, 'a password for this one', 'Planter');
    expect(again.status).toBe(202);
    await app.settle();
    expect(alreadyRegistered(email)).toHaveLength(1);
    expect((await login(email, 'a password for this one')).status).toBe(401);

    const reset = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token: app.tokenFromMail(email, 'password-reset'), newPassword: 'my first own password' },
      headers: fromNewIp(),
    });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.sessionsRevoked).toBe(1);
    const signedIn = await login(email, 'my first own password');
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.body.user.id).toBe(oauth.body.user.id);
  });
});

describe('per-IP throttles of the account routes', () => {
  it('40 concurrent reset requests for one address from one client: at most 10 pass and at most 3 mails go out', async () => {
    const { email } = await app.signupVerifiedAndLogin(freshEmail('burst'));
    await app.settle();
    const before = mailsTo(email).filter((m) => m.action.type === 'password-reset').length;
    const ip = from('198.51.100.40');
    const answers = await Promise.all(Array.from({ length: 40 }, () => requestReset(email, ip)));
    await app.settle();
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    for (const limited of answers.filter((a) => a.status === 429)) {
      expectRateLimited(limited, 'Too many password-reset requests.');
    }
    expect(mailsTo(email).filter((m) => m.action.type === 'password-reset').length - before).toBe(3);
  });

  it('40 concurrent signups from one client: at most 10 pass', async () => {
    const ip = from('198.51.100.41');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        signup(freshEmail(`flood${i}-`), 'a perfectly fine passphrase', 'F', ip),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(10);
    for (const limited of answers.filter((a) => a.status !== 202)) {
      expectRateLimited(limited, 'Too many sign-up attempts.');
    }
  });

  it('throttles verify-email and Google/GitHub sign-in per client, each in a budget of its own', async () => {
    const ip = from('198.51.100.42');
    const verifies = [];
    for (let i = 0; i < 11; i++) {
      verifies.push(
        await app.request('POST', '/api/accounts/verify-email', {
          body: { token: 'A'.repeat(43) },
          headers: ip,
        }),
      );
    }
    expect(verifies.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(400));
    expectRateLimited(verifies[10]!, 'Too many verification attempts.');

    const oauths = [];
    for (let i = 0; i < 11; i++) {
      oauths.push(
        await app.request('POST', '/api/login/oauth', { body: { idToken: 'x'.repeat(40) }, headers: ip }),
      );
    }
    expect(oauths.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(401));
    expectRateLimited(oauths[10]!, 'Too many sign-in attempts.');

    // Signup and password login from the same client still have their own budgets.
    expect((await signup(freshEmail('own'), 'a perfectly fine passphrase', 'O', ip)).status).toBe(202);
    const user = await app.signupVerifiedAndLogin(freshEmail('ownlogin'));
    const passwordLogin = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: ip,
    });
    expect(passwordLogin.status).toBe(200);

    // A slot frees when the oldest hit leaves the 15-minute window.
    clock.advance(15 * MINUTE_MS);
    const later = await app.request('POST', '/api/accounts/verify-email', {
      body: { token: 'A'.repeat(43) },
      headers: ip,
    });
    expect(later.status).toBe(400);
  });

  it('counts an IPv6 /64 as one client', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await requestReset(freshEmail('v6'), from(`2001:db8:77:1::${i + 1}`))).status).toBe(202);
    }
    expectRateLimited(
      await requestReset(freshEmail('v6'), from('2001:db8:77:1:abcd::1')),
      'Too many password-reset requests.',
    );
    expect((await requestReset(freshEmail('v6'), from('2001:db8:77:2::1'))).status).toBe(202);
  });

  it('password login’s 429 says when to try again too', async () => {
    const ip = from('198.51.100.43');
    for (let i = 0; i < 10; i++) {
      await app.request('POST', '/api/login', {
        body: { email: 'nobody@example.com', password: 'x' },
        headers: ip,
      });
    }
    const limited = await app.request('POST', '/api/login', {
      body: { email: 'nobody@example.com', password: 'x' },
      headers: ip,
    });
    expectRateLimited(limited, 'Too many sign-in attempts.');
  });
});

describe('per-recipient mail cap', () => {
  it('is silent: known and unknown addresses answer alike beyond the cap, and only 3 reset mails reach the known one', async () => {
    const { email } = await app.signupVerifiedAndLogin(freshEmail('capped'));
    await app.settle();
    const before = mailsTo(email).length;
    const unknown = freshEmail('nobody');
    const answers: ApiResponse[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await requestReset(email));
      answers.push(await requestReset(unknown));
    }
    await app.settle();
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.text).toBe(answers[0]?.text);
    }
    expect(mailsTo(email).length - before).toBe(3);
    expect(mailsTo(unknown)).toHaveLength(0);

    // An hour later the recipient can be mailed again.
    clock.advance(HOUR_MS);
    await requestReset(email);
    await app.settle();
    expect(mailsTo(email).length - before).toBe(4);
  });

  it('caps signup mails too: repeated signups for one address send at most 3 mails an hour', async () => {
    const email = freshEmail('resignup');
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await signup(email, `passphrase number ${i} here`, 'R'));
    await app.settle();
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`)).size).toBe(1);
    const mails = mailsTo(email);
    expect(mails.filter((m) => m.action.type === 'verify-email')).toHaveLength(1);
    expect(alreadyRegistered(email)).toHaveLength(2);
  });
});

describe('client address validation (TRUSTED_PROXY_HOPS=1)', () => {
  it('refuses a request whose picked X-Forwarded-For entry is not an address, before it opens a bucket', async () => {
    const keysBefore = await rateLimitKeys();
    const email = freshEmail('garbage');
    for (const garbage of ['not-an-ip', 'unknown', '999.0.0.1', '127.1', 'fe80::1%eth0', 'evil.example']) {
      const res = await signup(email, 'a perfectly fine passphrase', 'G', from(garbage));
      expect(res.status, garbage).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toBe("The request's client address could not be determined.");
    }
    const reset = await requestReset(email, from('203.0.113.9, not-an-ip'));
    expect(reset.status).toBe(400);
    expect(await rateLimitKeys()).toEqual(keysBefore);
    await app.settle();
    expect(mailsTo(email)).toHaveLength(0);
    const user = await app.runtime.platform.db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', email.toLowerCase())
      .executeTakeFirst();
    expect(user).toBeUndefined();
  });

  it('never starts a session with a malformed address', async () => {
    const user = await app.signupVerifiedAndLogin(freshEmail('nosession'));
    const refused = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: from('not-an-ip'),
    });
    expect(refused.status).toBe(400);
    const ips = await app.runtime.platform.db
      .selectFrom('sessions')
      .select('ip')
      .where('user_id', '=', user.userId)
      .execute();
    expect(ips).toHaveLength(1);
    expect(ips.map((s) => s.ip)).not.toContain('not-an-ip');
  });

  it('ignores a spoofed prefix and normalizes the trusted entry', async () => {
    const user = await app.signupVerifiedAndLogin(freshEmail('spoof'));
    const signedIn = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: from('not-an-ip, 10.0.0.1, ::ffff:203.0.113.200'),
    });
    expect(signedIn.status, signedIn.text).toBe(200);
    const session = await app.runtime.platform.db
      .selectFrom('sessions')
      .select('ip')
      .where('id', '=', signedIn.body.session.id)
      .executeTakeFirstOrThrow();
    expect(session.ip).toBe('203.0.113.200');
  });

  it('one client cannot get fresh buckets by respelling its address', async () => {
    const spellings = ['198.51.100.99', '::ffff:198.51.100.99', '::FFFF:c633:6463', '198.51.100.99:5000'];
    const answers = [];
    for (let i = 0; i < 11; i++) {
      answers.push(await requestReset(freshEmail('respell'), from(spellings[i % spellings.length]!)));
    }
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(202));
    expectRateLimited(answers[10]!, 'Too many password-reset requests.');
  });
});

describe('OpenAPI', () => {
  it('documents the 429 and its Retry-After on every throttled route', async () => {
    const doc = await app.request('GET', '/api/openapi.json');
    for (const path of [
      '/api/accounts/signup',
      '/api/accounts/password-reset/request',
      '/api/accounts/verify-email',
      '/api/login/oauth',
      '/api/login',
    ]) {
      const limited = doc.body.paths[path].post.responses['429'];
      expect(limited?.description, path).toMatch(/^RATE_LIMITED: .*Try again in 12 minutes/);
      expect(limited.headers['Retry-After'].schema.type).toBe('integer');
    }
  });
});
