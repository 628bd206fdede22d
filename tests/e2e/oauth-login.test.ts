import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firebaseIdentity } from '../../shared/sso/firebase.js';
import { FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type FakeGoogleCerts, fakeGoogleCerts, unsignedToken } from '../helpers/firebase.js';
import { client, codeAt, enableMfa, mfaStep } from '../helpers/mfa.js';

let app: TestApp;
let google: FakeGoogleCerts;
let counter = 0;
const freshEmail = () => `oauth${++counter}-${Date.now()}@example.com`;

beforeAll(async () => {
  google = await fakeGoogleCerts();
  app = await startTestApp({ env: { FIREBASE_PROJECT_ID: google.projectId, TRUSTED_PROXY_HOPS: '1' } });
}, 180_000);

afterAll(async () => {
  await app?.stop();
  await google?.stop();
});

function oauthLogin(idToken: string) {
  return app.request('POST', '/api/login/oauth', {
    body: { idToken },
    headers: { 'x-forwarded-for': `10.20.${counter}.${Math.floor(Math.random() * 250)}` },
  });
}

async function auditOf(userId: string) {
  return app.runtime.platform.db
    .selectFrom('audit_logs')
    .selectAll()
    .where('chain', '=', `user:${userId}`)
    .orderBy('seq')
    .execute();
}

describe('GET /api/login/providers', () => {
  it('tells the console nothing to offer while the Firebase Web API key is unset, even with a project', async () => {
    const res = await app.request('GET', '/api/login/providers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ firebase: null });
  });
});

describe('POST /api/login/oauth', () => {
  it('a Google-verified token creates a password-less account and a working session of ours', async () => {
    const email = freshEmail();
    const fetchesBefore = google.fetches();
    const res = await oauthLogin(await google.idToken({ claims: { email, name: 'Grace Hopper' } }));
    expect(res.status).toBe(200);
    expect(google.fetches()).toBeGreaterThan(fetchesBefore);
    expect(res.body.user).toMatchObject({ email, name: 'Grace Hopper' });
    expect(res.headers.get('set-cookie')).toMatch(/^__Host-sf_session=.+HttpOnly/);
    const current = await app.request('GET', '/api/sessions/current', { token: res.body.token });
    expect(current.status).toBe(200);
    const credential = await app.runtime.platform.db
      .selectFrom('password_credentials')
      .select('user_id')
      .where('user_id', '=', res.body.user.id)
      .executeTakeFirst();
    expect(credential).toBeUndefined();
    const audit = await auditOf(res.body.user.id);
    expect(audit.find((r) => r.action === 'login.succeeded')?.metadata).toMatchObject({ method: 'google' });

    // Logging out revokes our session; the Firebase token has no say in that.
    const out = await app.request('POST', '/api/login/logout', { token: res.body.token });
    expect(out.status).toBe(204);
    expect((await app.request('GET', '/api/sessions/current', { token: res.body.token })).status).toBe(401);
  });

  it('a GitHub token for the same email signs in to the same account, audited as github', async () => {
    const email = freshEmail();
    const first = await oauthLogin(await google.idToken({ claims: { email } }));
    const second = await oauthLogin(await google.idToken({ claims: { email }, provider: 'github.com' }));
    expect(second.status).toBe(200);
    expect(second.body.user.id).toBe(first.body.user.id);
    const methods = (await auditOf(first.body.user.id))
      .filter((r) => r.action === 'login.succeeded')
      .map((r) => (r.metadata as { method: string }).method);
    expect(methods).toEqual(['google', 'github']);
  });

  it('links to an existing verified password account by normalized email', async () => {
    const existing = await app.signupVerifiedAndLogin(freshEmail());
    const res = await oauthLogin(
      await google.idToken({ claims: { email: `  ${existing.email.toUpperCase()}` } }),
    );
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(existing.userId);
  });

  it('does not link an unconfirmed password account (pre-hijacking): 403 EMAIL_NOT_VERIFIED', async () => {
    const email = freshEmail();
    const signup = await app.request('POST', '/api/accounts/signup', {
      body: { email, password: 'a long enough passphrase 42', name: 'Squatter' },
    });
    expect(signup.status).toBe(202);
    const res = await oauthLogin(await google.idToken({ claims: { email } }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('EMAIL_NOT_VERIFIED');
  });

  it('refuses every bad token with 401 INVALID_CREDENTIALS and starts no session', async () => {
    const email = freshEmail();
    const nowSeconds = Math.floor(Date.now() / 1000);
    const bad: Record<string, string> = {
      'signed by a key Google does not serve': await google.idToken({
        claims: { email },
        signWith: 'stranger',
      }),
      expired: await google.idToken({ claims: { email }, expiresInSeconds: -60 }),
      'for another project (aud)': await google.idToken({ claims: { email, aud: 'someone-else' } }),
      'from another issuer': await google.idToken({
        claims: { email, iss: 'https://securetoken.google.com/someone-else' },
      }),
      'email not verified by the provider': await google.idToken({
        claims: { email, email_verified: false },
      }),
      'no email': await google.idToken({ claims: {} }),
      'a provider we do not offer (password)': await google.idToken({
        claims: { email },
        provider: 'password',
      }),
      'alg none': unsignedToken({
        iss: `https://securetoken.google.com/${google.projectId}`,
        aud: google.projectId,
        sub: 'u1',
        iat: nowSeconds,
        exp: nowSeconds + 3600,
        email,
        email_verified: true,
        firebase: { sign_in_provider: 'google.com' },
      }),
      garbage: 'not.a.jwt-at-all-but-long-enough',
    };
    for (const [label, token] of Object.entries(bad)) {
      const res = await oauthLogin(token);
      expect({ label, status: res.status, code: res.body.error?.code }).toEqual({
        label,
        status: 401,
        code: 'INVALID_CREDENTIALS',
      });
    }
    const user = await app.runtime.platform.db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', email)
      .executeTakeFirst();
    expect(user).toBeUndefined();
  });

  it('answers 400 VALIDATION_FAILED without an idToken', async () => {
    const res = await app.request('POST', '/api/login/oauth', { body: {} });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('POST /api/login/oauth for a user with MFA', () => {
  // A clock of its own (starting now: firebase-admin checks the token's expiry against real time)
  // so TOTP codes can be made for it.
  const clock = new FakeClock(new Date());
  let mfaApp: TestApp;
  beforeAll(async () => {
    mfaApp = await startTestApp({
      clock,
      env: { FIREBASE_PROJECT_ID: google.projectId, TRUSTED_PROXY_HOPS: '1' },
    });
  }, 180_000);
  afterAll(async () => {
    await mfaApp?.stop();
  });

  it('a Google identity is only the first factor: MFA_REQUIRED, then the code, audited google+totp', async () => {
    const user = await mfaApp.signupVerifiedAndLogin(freshEmail());
    const { secret } = await enableMfa(mfaApp, clock, user);
    const headers = client();
    const first = await mfaApp.request('POST', '/api/login/oauth', {
      body: { idToken: await google.idToken({ claims: { email: user.email } }) },
      headers,
    });
    expect(first.status).toBe(401);
    expect(first.body.error.code).toBe('MFA_REQUIRED');
    expect(first.body.token).toBeUndefined();
    expect(first.headers.get('set-cookie')).toBeNull();
    const mfaToken: string = first.body.error.mfaToken;

    // The mfaToken is bound to the client that earned it, and a wrong code does not finish the login.
    const elsewhere = await mfaStep(mfaApp, mfaToken, await codeAt(secret, clock.now()), client());
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const wrong = await mfaStep(mfaApp, mfaToken, '000000', headers);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);

    const second = await mfaStep(mfaApp, mfaToken, await codeAt(secret, clock.now()), headers);
    expect(second.status).toBe(200);
    expect(second.body.user.id).toBe(user.userId);
    expect((await mfaApp.request('GET', '/api/sessions/current', { token: second.body.token })).status).toBe(
      200,
    );
    const methods = (
      await mfaApp.runtime.platform.db
        .selectFrom('audit_logs')
        .select('metadata')
        .where('chain', '=', `user:${user.userId}`)
        .where('action', '=', 'login.succeeded')
        .orderBy('seq')
        .execute()
    ).map((r) => (r.metadata as { method: string }).method);
    expect(methods.at(-1)).toBe('google+totp');
  });
});

describe('firebaseIdentity (our checks after firebase-admin)', () => {
  const base = {
    uid: 'u1',
    aud: 'p1',
    iss: 'https://securetoken.google.com/p1',
    email: 'a@example.com',
    email_verified: true,
    firebase: { sign_in_provider: 'github.com', identities: {} },
  };

  it('maps github.com to the github login method', () => {
    const result = firebaseIdentity(base, 'p1');
    expect(result.ok && result.identity.provider).toBe('github');
  });

  it('refuses another project, an unverified email and an unknown provider', () => {
    expect(firebaseIdentity({ ...base, aud: 'p2' }, 'p1')).toMatchObject({
      ok: false,
      code: 'INVALID_CREDENTIALS',
    });
    expect(firebaseIdentity({ ...base, email_verified: false }, 'p1')).toMatchObject({ ok: false });
    expect(
      firebaseIdentity({ ...base, firebase: { sign_in_provider: 'anonymous', identities: {} } }, 'p1'),
    ).toMatchObject({ ok: false });
  });
});
