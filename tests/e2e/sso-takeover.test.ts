import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/meta/all-routes.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type FakeGoogleCerts, fakeGoogleCerts } from '../helpers/firebase.js';
import { issueApiKey } from '../helpers/keys.js';
import {
  type FakeProvider,
  freePort,
  type InProcessProvider,
  startFakeProvider,
  startOidcProvider,
} from '../helpers/oidc.js';
import {
  createOrg,
  grantMembership,
  login,
  newUser,
  nextIp,
  orgTestEnv,
  type TestUser,
} from '../helpers/orgs.js';
import {
  configureSso,
  identitiesOf,
  linkIdentity,
  providerSettings,
  STATE_COOKIE,
  sessionOf,
  ssoAudit,
  ssoCallback,
  ssoLogin,
  ssoStart,
  stepUp,
} from '../helpers/sso.js';

/**
 * The account-takeover paths through org SSO, and the SSO-only policy, replayed over HTTP against
 * the local runtime with a real OpenID Provider (oidc-provider) in process: an org's provider is
 * whatever its admin configures, so nothing it asserts may reach an account its owner did not link.
 */
let app: TestApp;
let idp: InProcessProvider;
let fake: FakeProvider;
let google: FakeGoogleCerts;
let appUrl: string;
let redirectUri: string;
let counter = 0;

beforeAll(async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  redirectUri = `${appUrl}/api/login/sso/callback`;
  idp = await startOidcProvider(redirectUri);
  fake = await startFakeProvider();
  google = await fakeGoogleCerts();
  app = await startTestApp({
    env: { ...orgTestEnv, PORT: String(port), APP_URL: appUrl, FIREBASE_PROJECT_ID: google.projectId },
  });
}, 240_000);

afterAll(async () => {
  await app?.stop();
  await idp?.stop();
  await fake?.stop();
  await google?.stop();
});

const unique = (label: string) => `${label}-${++counter}-${Date.now()}`;

/** An org of `owner` whose SSO points at the in-process provider (the owner steps up to set it). */
async function ssoOrg(owner: TestUser, overrides: Record<string, unknown> = {}) {
  const org = await createOrg(app, owner);
  await stepUp(app, owner);
  const put = await configureSso(app, owner.token, org.id, providerSettings(idp, overrides));
  expect(put.status, put.text).toBe(200);
  return org;
}

function sessionsOf(userId: string) {
  return app.runtime.platform.db
    .selectFrom('sessions')
    .select(['id', 'org_id', 'revoked_at'])
    .where('user_id', '=', userId)
    .execute();
}

/** The provider's answer about `victim` was refused, and nothing about the account changed. */
async function expectNoTakeover(res: Awaited<ReturnType<typeof ssoLogin>>, orgId: string, victim: TestUser) {
  expect([res.status, res.body.error?.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  expect(res.body.error.requirement).toBe('link_identity');
  expect(sessionOf(res)).toBeUndefined();
  expect((await sessionsOf(victim.userId)).filter((s) => s.org_id === orgId)).toEqual([]);
  expect(await identitiesOf(app, orgId)).toEqual([]);
  expect((await ssoAudit(app, orgId)).at(-1)).toMatchObject({
    action: 'sso.login',
    outcome: 'refused',
    reason: 'existing_account_not_linked',
  });
  // The victim's own credentials are untouched.
  expect((await login(app, victim.email, victim.password)).status).toBe(200);
}

describe('an org identity provider cannot sign in as an existing account', () => {
  it("an org admin cannot configure SSO; an org owner's provider asserting a co-owner's email gets no session for that account", async () => {
    const victim = await newUser(app, 'victim');
    const org = await createOrg(app, victim);
    const admin = await newUser(app, 'mallory-admin');
    await grantMembership(app, org.id, admin.userId, 'admin');
    await stepUp(app, admin);
    const hostile = providerSettings(idp, { allowedDomains: ['example.com'], defaultRole: 'admin' });
    const asAdmin = await configureSso(app, admin.token, org.id, hostile);
    expect([asAdmin.status, asAdmin.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    const readAsAdmin = await app.request('GET', `/api/orgs/${org.id}/sso`, { token: admin.token });
    expect([readAsAdmin.status, readAsAdmin.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);

    // A co-owner can configure SSO, but their provider still speaks only for accounts it created
    // or that their owners linked.
    const coOwner = await newUser(app, 'mallory-owner');
    await grantMembership(app, org.id, coOwner.userId, 'owner');
    await stepUp(app, coOwner);
    const put = await configureSso(app, coOwner.token, org.id, hostile);
    expect(put.status, put.text).toBe(200);
    for (const email of [victim.email, victim.email.toUpperCase()]) {
      idp.user = { sub: unique('claims-victim'), email, email_verified: true, name: 'Not the owner' };
      await expectNoTakeover(await ssoLogin(app, org.slug, redirectUri), org.id, victim);
    }
  });

  it("a user who once accepted an invitation to an attacker's org is not taken over by that org's provider", async () => {
    const attacker = await newUser(app, 'attacker');
    const org = await ssoOrg(attacker, { allowedDomains: ['example.com'], defaultRole: 'admin' });
    const victim = await newUser(app, 'invitee');
    const invited = await app.request('POST', `/api/orgs/${org.id}/invitations`, {
      token: attacker.token,
      body: { email: victim.email, role: 'viewer' },
    });
    expect(invited.status, invited.text).toBe(201);
    await app.settle();
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: victim.token,
      body: { token: app.tokenFromMail(victim.email, 'invitation') },
    });
    expect(accepted.status, accepted.text).toBe(200);

    idp.user = { sub: unique('claims-invitee'), email: victim.email, email_verified: true };
    await expectNoTakeover(await ssoLogin(app, org.slug, redirectUri), org.id, victim);
  });

  it("an account an attacker's provider created for an unregistered address is the real person's after a reset, and its SSO session never reached the account", async () => {
    const attacker = await newUser(app, 'precreate');
    const org = await ssoOrg(attacker, { allowedDomains: ['example.com'] });
    const email = `${unique('ghost')}@example.com`;
    idp.user = { sub: unique('ghost-sub'), email, email_verified: true };
    const created = await ssoLogin(app, org.slug, redirectUri);
    expect(created.status, created.text).toBe(302);
    const ssoToken = sessionOf(created) ?? '';
    const current = await app.request('GET', '/api/sessions/current', { token: ssoToken });
    const userId: string = current.body.user.id;
    expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      outcome: 'succeeded',
      accountCreated: true,
    });

    // The provider's session cannot give the account a password or a second factor.
    for (const [method, path, body] of [
      ['POST', '/api/mfa/totp/enroll', undefined],
      ['POST', '/api/accounts/password', { currentPassword: 'x', newPassword: 'attacker chosen pass 1' }],
    ] as const) {
      const res = await app.request(method, path, { token: ssoToken, ...(body ? { body } : {}) });
      expect([path, res.status, res.body.error.code]).toEqual([path, 403, 'INSUFFICIENT_ROLE']);
      expect(res.body.error.requirement).toBe('personal_session');
    }

    // The real person: reset sets a password on the password-less account and ends every session.
    const requested = await app.request('POST', '/api/accounts/password-reset/request', {
      body: { email },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect(requested.status).toBe(202);
    await app.settle();
    const newPassword = 'the real owner picks this one';
    const confirmed = await app.request('POST', '/api/accounts/password-reset/confirm', {
      body: { token: app.tokenFromMail(email, 'password-reset'), newPassword },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    const signedIn = await login(app, email, newPassword);
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.body.user.id).toBe(userId);
    expect((await app.request('GET', '/api/sessions/current', { token: ssoToken })).status).toBe(401);
  });
});

describe('identities are keyed by (issuer, subject)', () => {
  it('changing the issuer drops the links made at the old provider; the new provider cannot reuse a subject', async () => {
    const owner = await newUser(app, 'issuer-owner');
    const org = await ssoOrg(owner);
    const subject = unique('jit');
    const email = `${subject}@acme.test`;
    idp.user = { sub: subject, email, email_verified: true };
    expect((await ssoLogin(app, org.slug, redirectUri)).status).toBe(302);
    expect(await identitiesOf(app, org.id)).toMatchObject([{ issuer: idp.url, subject }]);

    const moved = await configureSso(app, owner.token, org.id, {
      issuerUrl: fake.url,
      clientId: fake.clientId,
      clientSecret: 'fake-secret',
      allowedDomains: ['acme.test'],
      defaultRole: 'member',
      passwordLoginAllowed: true,
    });
    expect(moved.status, moved.text).toBe(200);
    expect(await identitiesOf(app, org.id)).toEqual([]);
    expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({
      action: 'policy.updated',
      identitiesDropped: 1,
    });

    // The new provider asserts the same subject and email: the account stays out of its reach.
    const started = await ssoStart(app, org.slug);
    const authorize = new URL(started.location);
    await fake.nextIdToken(authorize.searchParams.get('nonce') ?? '', { claims: { sub: subject, email } });
    const res = await ssoCallback(
      app,
      `${redirectUri}?code=c&state=${authorize.searchParams.get('state')}`,
      started.stateCookie,
    );
    expect([res.status, res.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(sessionOf(res)).toBeUndefined();

    // Moving back does not bring the old links back either.
    expect((await configureSso(app, owner.token, org.id, providerSettings(idp))).status).toBe(200);
    const back = await ssoLogin(app, org.slug, redirectUri);
    expect([back.status, back.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  });
});

describe('linking an org identity to an existing account', () => {
  it('needs a personal, stepped-up session, finishes only in that session, and then signs that user in', async () => {
    const owner = await newUser(app, 'link-owner');
    const org = await ssoOrg(owner);
    const user = await newUser(app, 'linker');
    const subject = unique('linker-sub');
    idp.user = { sub: subject, email: `${subject}@acme.test`, email_verified: true };

    const early = await app.request('POST', `/api/orgs/${org.id}/sso/link`, { token: user.token, body: {} });
    expect([early.status, early.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);
    await stepUp(app, user);

    // The provider's answer carried to another session, or to none, links nothing.
    const intruder = await newUser(app, 'intruder');
    for (const callbackToken of [intruder.token, null]) {
      const { done } = await linkIdentity(app, user.token, org.id, redirectUri, callbackToken);
      expect([done?.status, done?.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
      expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({ reason: 'link_session_mismatch' });
    }
    expect(await identitiesOf(app, org.id)).toEqual([]);

    const { start, done } = await linkIdentity(app, user.token, org.id, redirectUri);
    expect(start.status).toBe(200);
    expect(new URL(start.body.authorizationUrl).origin).toBe(idp.url);
    expect(start.headers.getSetCookie().some((c) => c.startsWith(`${STATE_COOKIE}=`))).toBe(true);
    expect(done?.status, done?.text).toBe(302);
    expect(done?.headers.get('location')).toBe(`${appUrl}/`);
    expect(done && sessionOf(done)).toBeUndefined();
    expect(await identitiesOf(app, org.id)).toEqual([{ issuer: idp.url, subject, user_id: user.userId }]);
    expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      outcome: 'linked',
      actorId: user.userId,
    });

    const signedIn = await ssoLogin(app, org.slug, redirectUri);
    expect(signedIn.status).toBe(302);
    const current = await app.request('GET', '/api/sessions/current', { token: sessionOf(signedIn) ?? '' });
    expect(current.body.user.id).toBe(user.userId);

    // The identity is taken: another account cannot link it.
    await stepUp(app, intruder);
    const { done: stolen } = await linkIdentity(app, intruder.token, org.id, redirectUri);
    expect([stolen?.status, stolen?.body.error.code]).toEqual([409, 'CONFLICT']);
    expect(await identitiesOf(app, org.id)).toHaveLength(1);
  });

  it('answers 404 for an org without SSO or an id that is not one, and refuses a session SSO started', async () => {
    const user = await newUser(app, 'link-404');
    const plain = await createOrg(app, user);
    await stepUp(app, user);
    for (const id of [plain.id, 'not-an-id']) {
      const res = await app.request('POST', `/api/orgs/${id}/sso/link`, { token: user.token, body: {} });
      expect([id, res.status, res.body.error.code]).toEqual([id, 404, 'NOT_FOUND']);
    }
    const owner = await newUser(app, 'link-bound-owner');
    const org = await ssoOrg(owner);
    idp.user = { sub: unique('bound'), email: `${unique('bound')}@acme.test`, email_verified: true };
    const bound = sessionOf(await ssoLogin(app, org.slug, redirectUri)) ?? '';
    const res = await app.request('POST', `/api/orgs/${org.id}/sso/link`, { token: bound, body: {} });
    expect([res.status, res.body.error.code, res.body.error.requirement]).toEqual([
      403,
      'INSUFFICIENT_ROLE',
      'personal_session',
    ]);
  });
});

/** A request that reaches the route's handler for an allowed caller (valid body where one is needed). */
const personalRequests: Record<string, { body?: unknown; path?: string }> = {
  'POST /api/accounts/password': { body: { currentPassword: 'x', newPassword: 'a new passphrase 1234' } },
  'POST /api/mfa/backup-codes': {},
  'POST /api/mfa/totp/confirm': { body: { code: '123456' } },
  'DELETE /api/mfa/totp': {},
  'POST /api/mfa/totp/enroll': {},
  'GET /api/accounts/activity': {},
  'DELETE /api/accounts/me': {},
  'POST /api/orgs/:orgId/restore': {},
  'GET /api/passkeys': {},
  'PATCH /api/passkeys/:id': {
    path: '/api/passkeys/00000000-0000-4000-8000-000000000000',
    body: { name: 'x' },
  },
  'DELETE /api/passkeys/:id': { path: '/api/passkeys/00000000-0000-4000-8000-000000000000' },
  'POST /api/passkeys/register/options': {},
  'POST /api/passkeys/register/verify': { body: { response: {} } },
  'GET /api/accounts/security-events': {},
  'GET /api/accounts/security-events/stream': {},
  'POST /api/accounts/security-events/:id/acknowledge': {
    path: '/api/accounts/security-events/00000000-0000-4000-8000-000000000000/acknowledge',
  },
  'POST /api/orgs/invitations/accept': { body: { token: 'x'.repeat(43) } },
  'POST /api/orgs': { body: { name: 'Elsewhere', slug: 'elsewhere-from-sso' } },
  'DELETE /api/sessions/devices/:id': { path: '/api/sessions/devices/00000000-0000-4000-8000-000000000000' },
  'POST /api/sessions/devices/:id/trust': {
    path: '/api/sessions/devices/00000000-0000-4000-8000-000000000000/trust',
  },
  'GET /api/sessions/devices': {},
  'GET /api/sessions': {},
  'POST /api/sessions/revoke-all': {},
  'DELETE /api/sessions/:id': { path: '/api/sessions/00000000-0000-4000-8000-000000000000' },
  'POST /api/sessions/revoke-others': {},
  'POST /api/orgs/:orgId/sso/link': { body: {} },
  // Leaving is the account's decision, not the provider's: a bound session cannot leave its org.
  'POST /api/orgs/:orgId/leave': {},
};

describe('a session an org SSO started is bound to that org', () => {
  it('reaches that org, the current session, step-up and logout; every personal route and other orgs refuse it', async () => {
    const owner = await newUser(app, 'bound-owner');
    const org = await ssoOrg(owner);
    const user = await newUser(app, 'bound-user');
    const elsewhere = await createOrg(app, user);
    const subject = unique('bound-sub');
    idp.user = { sub: subject, email: `${subject}@acme.test`, email_verified: true };
    await stepUp(app, user);
    expect((await linkIdentity(app, user.token, org.id, redirectUri)).done?.status).toBe(302);
    const bound = {
      token: sessionOf(await ssoLogin(app, org.slug, redirectUri)) ?? '',
      password: user.password,
    };

    expect((await app.request('GET', '/api/sessions/current', { token: bound.token })).body.user.id).toBe(
      user.userId,
    );
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: bound.token })).status).toBe(
      200,
    );
    const orgs = await app.request('GET', '/api/orgs', { token: bound.token });
    expect(orgs.body.orgs.map((o: { id: string }) => o.id)).toEqual([org.id]);
    const other = await app.request('GET', `/api/orgs/${elsewhere.id}/members`, { token: bound.token });
    expect([other.status, other.body.error.code]).toEqual([404, 'NOT_FOUND']);

    // Every session route that does not declare boundSessions refuses it: new routes are covered
    // by default, and this list must name each of them.
    const personal = allRoutes().filter((r) => r.auth.kind === 'session' && r.auth.boundSessions !== true);
    expect(personal.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(personalRequests).sort());
    for (const route of personal) {
      const key = `${route.method} ${route.path}`;
      const request = personalRequests[key] ?? {};
      const path = request.path ?? route.path.replace(':orgId', org.id);
      const res = await app.request(route.method, path, {
        token: bound.token,
        ...(request.body !== undefined ? { body: request.body } : {}),
      });
      expect([key, res.status, res.body.error?.code, res.body.error?.requirement]).toEqual([
        key,
        403,
        'INSUFFICIENT_ROLE',
        'personal_session',
      ]);
    }

    // Step-up keeps the binding; logout ends it.
    await stepUp(app, bound);
    const still = await app.request('GET', '/api/sessions', { token: bound.token });
    expect([still.status, still.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    expect((await app.request('POST', '/api/login/logout', { token: bound.token })).status).toBe(204);
    expect((await app.request('GET', '/api/sessions/current', { token: bound.token })).status).toBe(401);
  });
});

describe('an SSO-only org (passwordLoginAllowed: false)', () => {
  it('is set from a session its SSO started, then admits only such sessions: password and Google sessions get 403 SSO_REQUIRED with ssoUrl; API keys keep working', async () => {
    const owner = await newUser(app, 'only-owner');
    const org = await ssoOrg(owner);
    const ownerSubject = unique('only-owner-sub');
    const ownerIdentity = { sub: ownerSubject, email: `${ownerSubject}@acme.test`, email_verified: true };

    // Members signed in before the switch: one by password, one through Google.
    const member = await newUser(app, 'only-member');
    await grantMembership(app, org.id, member.userId, 'member');
    const googleEmail = `${unique('only-google')}@example.com`;
    const googleLogin = async () =>
      app.request('POST', '/api/login/oauth', {
        body: { idToken: await google.idToken({ claims: { email: googleEmail } }) },
        headers: { 'x-forwarded-for': nextIp() },
      });
    const googleFirst = await googleLogin();
    expect(googleFirst.status, googleFirst.text).toBe(200);
    await grantMembership(app, org.id, googleFirst.body.user.id, 'member');
    const apiKey = await issueApiKey(app, org.id, 'viewer');
    const outsider = await newUser(app, 'only-outsider');

    // Not from a session SSO-only would shut out at once.
    const locking = await configureSso(
      app,
      owner.token,
      org.id,
      providerSettings(idp, { passwordLoginAllowed: false }),
    );
    expect([locking.status, locking.body.error.code]).toEqual([409, 'CONFLICT']);

    idp.user = ownerIdentity;
    expect((await linkIdentity(app, owner.token, org.id, redirectUri)).done?.status).toBe(302);
    const bound = {
      token: sessionOf(await ssoLogin(app, org.slug, redirectUri)) ?? '',
      password: owner.password,
    };
    await stepUp(app, bound);
    const on = await configureSso(
      app,
      bound.token,
      org.id,
      providerSettings(idp, { passwordLoginAllowed: false }),
    );
    expect(on.status, on.text).toBe(200);

    const ssoUrl = `${appUrl}/api/login/sso/${org.slug}`;
    const googleAgain = await googleLogin();
    expect(googleAgain.status).toBe(200);
    for (const [who, token] of [
      ['password session', member.token],
      ['Google session from before', googleFirst.body.token],
      ['Google session from after', googleAgain.body.token],
      ["the owner's own password session", owner.token],
    ] as const) {
      const res = await app.request('GET', `/api/orgs/${org.id}/members`, { token });
      expect([who, res.status, res.body.error.code, res.body.error.ssoUrl]).toEqual([
        who,
        403,
        'SSO_REQUIRED',
        ssoUrl,
      ]);
    }
    // Routes that check the org themselves go through the same gate.
    const check = await app.request('POST', '/api/allowlist/check', {
      token: member.token,
      body: { orgId: org.id, ip: '203.0.113.1' },
    });
    expect([check.status, check.body.error.code]).toEqual([403, 'SSO_REQUIRED']);
    // Personal routes stay open to the account: SSO-only is about acting in the org.
    expect((await app.request('GET', '/api/sessions', { token: member.token })).status).toBe(200);
    // A non-member still learns nothing about the org.
    const stranger = await app.request('GET', `/api/orgs/${org.id}/members`, { token: outsider.token });
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'NOT_FOUND']);

    // The org's own sessions and keys act in it.
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: bound.token })).status).toBe(
      200,
    );
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: apiKey })).status).toBe(200);
    const jitSubject = unique('only-jit');
    idp.user = { sub: jitSubject, email: `${jitSubject}@acme.test`, email_verified: true };
    const jit = sessionOf(await ssoLogin(app, org.slug, redirectUri)) ?? '';
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: jit })).status).toBe(200);

    // ssoUrl is where to go: it starts the org's SSO.
    const started = await app.request('GET', new URL(ssoUrl).pathname, {
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect(started.status).toBe(302);
    expect(new URL(started.headers.get('location') ?? '').origin).toBe(idp.url);
    expect(started.headers.getSetCookie().some((c) => c.startsWith(`${STATE_COOKIE}=`))).toBe(true);
  });

  it('a session bound to another org is not a way in either', async () => {
    const owner = await newUser(app, 'only-two-owner');
    const first = await ssoOrg(owner);
    const second = await ssoOrg(owner);
    const subject = unique('two-orgs');
    idp.user = { sub: subject, email: `${subject}@acme.test`, email_verified: true };
    const inFirst = sessionOf(await ssoLogin(app, first.slug, redirectUri)) ?? '';
    const current = await app.request('GET', '/api/sessions/current', { token: inFirst });
    await grantMembership(app, second.id, current.body.user.id, 'member');
    const res = await app.request('GET', `/api/orgs/${second.id}/members`, { token: inFirst });
    expect([res.status, res.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
