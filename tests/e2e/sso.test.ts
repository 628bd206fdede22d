import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  authorizeAtProvider,
  type FakeProvider,
  freePort,
  type InProcessProvider,
  startFakeProvider,
  startOidcProvider,
} from '../helpers/oidc.js';
import { createOrg, grantMembership, login, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import {
  configureSso,
  cookieOf,
  providerSettings,
  ssoAudit as ssoAuditHelper,
  ssoCallback,
  ssoStart,
  stepUp as stepUpHelper,
} from '../helpers/sso.js';

let app: TestApp;
let idp: InProcessProvider;
let fake: FakeProvider;
let appUrl: string;
let redirectUri: string;
let owner: TestUser;
let org: { id: string; slug: string };
const consoleOrigin = 'https://console.acme.test';

beforeAll(async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  redirectUri = `${appUrl}/api/login/sso/callback`;
  idp = await startOidcProvider(redirectUri);
  fake = await startFakeProvider();
  app = await startTestApp({
    env: { ...orgTestEnv, PORT: String(port), APP_URL: appUrl, APP_ORIGINS: consoleOrigin },
  });
  owner = await newUser(app, 'owner');
  org = await createOrg(app, owner);
  await stepUp(owner);
  const put = await configure(owner, org.id, providerSettings(idp));
  if (put.status !== 200) throw new Error(`configure failed: ${put.text}`);
}, 240_000);

afterAll(async () => {
  await app?.stop();
  await idp?.stop();
  await fake?.stop();
});

const stepUp = (user: TestUser) => stepUpHelper(app, user);
const configure = (user: TestUser, orgId: string, body: Record<string, unknown>) =>
  configureSso(app, user.token, orgId, body);
const start = (slug: string, returnTo?: string) => ssoStart(app, slug, returnTo);
const callback = (callbackUrl: string, stateCookie: string | undefined) =>
  ssoCallback(app, callbackUrl, stateCookie);
const ssoAudit = (orgId: string) => ssoAuditHelper(app, orgId);

describe('org SSO settings', () => {
  it('need the owner and a fresh step-up to change; the client secret is sealed and never shown', async () => {
    const member = await newUser(app, 'member');
    await grantMembership(app, org.id, member.userId, 'member');
    const body = providerSettings(idp);
    const byMember = await configure(member, org.id, body);
    expect([byMember.status, byMember.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);

    // An admin, even stepped up, neither reads nor changes SSO: a provider the org trusts is the
    // owner's decision.
    const admin = await newUser(app, 'admin');
    await grantMembership(app, org.id, admin.userId, 'admin');
    await stepUp(admin);
    const byAdmin = await configure(admin, org.id, body);
    expect([byAdmin.status, byAdmin.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);

    const ownerAgain = await login(app, owner.email, owner.password);
    const freshOwner = { ...owner, token: ownerAgain.body.token as string };
    const withoutStepUp = await configure(freshOwner, org.id, body);
    expect([withoutStepUp.status, withoutStepUp.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);

    await stepUp(freshOwner);
    const { clientSecret: _omitted, ...keepSecret } = body;
    const saved = await configure(freshOwner, org.id, keepSecret);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ issuerUrl: idp.url, redirectUri, defaultRole: 'member' });

    const read = await app.request('GET', `/api/orgs/${org.id}/sso`, { token: freshOwner.token });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(idp.clientSecret);
    const stored = await app.runtime.platform.db
      .selectFrom('org_sso_configs')
      .select('client_secret_sealed')
      .where('org_id', '=', org.id)
      .executeTakeFirstOrThrow();
    expect(stored.client_secret_sealed).not.toContain(idp.clientSecret);
    const audit = JSON.stringify(await ssoAudit(org.id));
    expect(audit).toContain('policy.updated');
    expect(audit).not.toContain(idp.clientSecret);

    for (const reader of [member, admin]) {
      const denied = await app.request('GET', `/api/orgs/${org.id}/sso`, { token: reader.token });
      expect([denied.status, denied.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    }
  });

  it('refuse an issuer that is not https, or does not answer discovery, with 400 VALIDATION_FAILED', async () => {
    const other = await createOrg(app, owner);
    await stepUp(owner);
    const base = {
      clientId: 'c',
      clientSecret: 's',
      allowedDomains: ['acme.test'],
      defaultRole: 'member',
      passwordLoginAllowed: true,
    };
    for (const issuerUrl of ['http://idp.example.com', `${fake.url}/nothing-here`]) {
      const res = await configure(owner, other.id, { ...base, issuerUrl });
      expect([issuerUrl, res.status, res.body.error.code]).toEqual([issuerUrl, 400, 'VALIDATION_FAILED']);
    }
    const badDomain = await configure(owner, other.id, {
      ...base,
      issuerUrl: fake.url,
      allowedDomains: ['*.acme'],
    });
    expect([badDomain.status, badDomain.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const ownerRole = await configure(owner, other.id, {
      ...base,
      issuerUrl: fake.url,
      defaultRole: 'owner',
    });
    expect([ownerRole.status, ownerRole.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('SSO login through the in-process OpenID Provider', () => {
  it('signs in end to end: code + PKCE, a just-in-time membership, a session bound to the org, a redirect to returnTo', async () => {
    idp.user = { sub: 'idp-ada', email: 'Ada@Acme.test', email_verified: true, name: 'Ada Lovelace' };
    const returnTo = `${consoleOrigin}/welcome?tab=1`;
    const started = await start(org.slug, returnTo);
    expect(started.res.status).toBe(302);
    const authorize = new URL(started.location);
    expect(authorize.origin).toBe(idp.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    const cookieLine = started.res.headers.getSetCookie().find((c) => c.startsWith('__Host-sf_sso='));
    expect(cookieLine).toMatch(/Max-Age=600; Path=\/; Secure; HttpOnly; SameSite=Lax/);

    const callbackUrl = await authorizeAtProvider(started.location, redirectUri);
    const done = await callback(callbackUrl, started.stateCookie);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe(returnTo);
    const token = cookieOf(done, '__Host-sf_session');
    expect(token).toBeTruthy();
    expect(
      done.headers.getSetCookie().some((c) => c.startsWith('__Host-sf_sso=;') && /Max-Age=0/.test(c)),
    ).toBe(true);

    const current = await app.request('GET', '/api/sessions/current', {
      headers: { cookie: `__Host-sf_session=${token}` },
    });
    expect(current.status).toBe(200);
    expect(current.body.user.email).toBe('Ada@Acme.test');
    const members = await app.request('GET', `/api/orgs/${org.id}/members`, { token });
    expect(members.status).toBe(200);
    expect(members.body.members.find((m: { email: string }) => m.email === 'Ada@Acme.test')?.role).toBe(
      'member',
    );
    const session = await app.runtime.platform.db
      .selectFrom('sessions')
      .select(['org_id'])
      .where('user_id', '=', current.body.user.id)
      .executeTakeFirstOrThrow();
    expect(session.org_id).toBe(org.id);

    const audit = await ssoAudit(org.id);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'member.joined', role: 'member', via: 'sso' }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'sso.login', outcome: 'succeeded', provisioned: true }),
    );

    // Replaying the same callback (same code, same cookie) is refused by the provider and by us.
    const replay = await callback(callbackUrl, started.stateCookie);
    expect([replay.status, replay.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect((await ssoAudit(org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      outcome: 'refused',
      reason: 'token_rejected',
    });

    // A second login finds the same user through the provider subject, with no second membership.
    const again = await start(org.slug);
    const second = await callback(await authorizeAtProvider(again.location, redirectUri), again.stateCookie);
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toBe(`${appUrl}/`);
  });

  it('refuses a callback without the state cookie (401 UNAUTHENTICATED) or with another state (401, audited)', async () => {
    idp.user = { sub: 'idp-bob', email: 'bob@acme.test', email_verified: true };
    const started = await start(org.slug);
    const callbackUrl = await authorizeAtProvider(started.location, redirectUri);

    const noCookie = await callback(callbackUrl, undefined);
    expect([noCookie.status, noCookie.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);

    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', 'x'.repeat(43));
    const mismatched = await callback(tampered.href, started.stateCookie);
    expect([mismatched.status, mismatched.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect((await ssoAudit(org.id)).at(-1)).toMatchObject({ action: 'sso.login', reason: 'state_mismatch' });

    const noState = new URL(callbackUrl);
    noState.searchParams.delete('state');
    const missing = await callback(noState.href, started.stateCookie);
    expect([missing.status, missing.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);

    const forged = await callback(callbackUrl, `${started.stateCookie?.split('.')[0]}.AAAA`);
    expect([forged.status, forged.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('refuses an email the provider has not verified, and a domain the org does not allow (401, audited)', async () => {
    for (const [user, reason] of [
      [{ sub: 'idp-carol', email: 'carol@acme.test', email_verified: false }, 'email_unverified'],
      [{ sub: 'idp-dave', email: 'dave@evil-acme.test', email_verified: true }, 'email_domain_not_allowed'],
    ] as const) {
      idp.user = { ...user };
      const started = await start(org.slug);
      const res = await callback(
        await authorizeAtProvider(started.location, redirectUri),
        started.stateCookie,
      );
      expect([reason, res.status, res.body.error.code]).toEqual([reason, 401, 'INVALID_CREDENTIALS']);
      expect((await ssoAudit(org.id)).at(-1)).toMatchObject({
        action: 'sso.login',
        outcome: 'refused',
        reason,
      });
    }
  });

  it('does not hand an existing account to the org provider by its email', async () => {
    const outsider = await newUser(app, 'outsider');
    const domain = outsider.email.split('@')[1] ?? '';
    const other = await createOrg(app, owner);
    await stepUp(owner);
    const put = await configure(
      owner,
      other.id,
      providerSettings(idp, { allowedDomains: [domain], defaultRole: 'admin' }),
    );
    expect(put.status).toBe(200);
    idp.user = { sub: 'idp-claims-outsider', email: outsider.email, email_verified: true };
    const started = await start(other.slug);
    const res = await callback(await authorizeAtProvider(started.location, redirectUri), started.stateCookie);
    expect([res.status, res.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(res.body.error.requirement).toBe('link_identity');
    expect(cookieOf(res, '__Host-sf_session')).toBeUndefined();
    expect((await ssoAudit(other.id)).at(-1)).toMatchObject({ reason: 'existing_account_not_linked' });
  });

  it('redirects only to configured app origins: another origin is 400 VALIDATION_FAILED and audited', async () => {
    for (const returnTo of [
      'https://evil.test/x',
      '//evil.test/x',
      'javascript:alert(1)',
      `${consoleOrigin}.evil.test/`,
    ]) {
      const { res } = await start(org.slug, returnTo);
      expect([returnTo, res.status, res.body.error.code]).toEqual([returnTo, 400, 'VALIDATION_FAILED']);
      expect(res.headers.get('location')).toBeNull();
    }
    expect((await ssoAudit(org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      reason: 'return_to_not_allowed',
    });
    const unknown = await start('no-such-org-slug');
    expect([unknown.res.status, unknown.res.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('ID token checks (a provider that answers what each test sets)', () => {
  it('refuses alg none, another audience, another issuer, an expired token, a wrong nonce and a foreign key; accepts the right one', async () => {
    const fakeOrg = await createOrg(app, owner);
    await stepUp(owner);
    const put = await configure(owner, fakeOrg.id, {
      issuerUrl: fake.url,
      clientId: fake.clientId,
      clientSecret: 'fake-secret',
      allowedDomains: ['fake.test'],
      defaultRole: 'viewer',
      passwordLoginAllowed: true,
    });
    expect(put.status).toBe(200);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const attempt = async (tweak: Parameters<FakeProvider['nextIdToken']>[1], nonceOverride?: string) => {
      const started = await start(fakeOrg.slug);
      const authorize = new URL(started.location);
      await fake.nextIdToken(nonceOverride ?? authorize.searchParams.get('nonce') ?? '', tweak);
      const state = authorize.searchParams.get('state') ?? '';
      return callback(`${redirectUri}?code=code-1&state=${state}`, started.stateCookie);
    };
    const cases: Array<[string, Parameters<FakeProvider['nextIdToken']>[1], string?]> = [
      ['alg none', { alg: 'none' }],
      ['another audience', { claims: { aud: 'someone-else' } }],
      ['another issuer', { claims: { iss: 'https://idp.evil.test' } }],
      ['expired', { claims: { exp: nowSeconds - 600, iat: nowSeconds - 1200 } }],
      ['wrong nonce', {}, 'a-nonce-from-another-login'],
      ['signed by a key not in the JWKS', { signWith: 'stranger' }],
    ];
    for (const [label, tweak, nonce] of cases) {
      const res = await attempt(tweak, nonce);
      expect([label, res.status, res.body?.error?.code]).toEqual([label, 401, 'INVALID_CREDENTIALS']);
    }
    const refusals = (await ssoAudit(fakeOrg.id)).filter(
      (r) => r.action === 'sso.login' && (r as { outcome?: string }).outcome === 'refused',
    );
    expect(refusals).toHaveLength(cases.length);

    const good = await attempt({});
    expect(good.status).toBe(302);
  });
});

describe('password login by members of an SSO org', () => {
  /** SSO-only is saved from a session the org's SSO started (tests/e2e/sso-takeover.test.ts); here it is set in the database. */
  const makeSsoOnly = async (orgId: string) => {
    await stepUp(owner);
    expect((await configure(owner, orgId, providerSettings(idp))).status).toBe(200);
    await app.runtime.platform.db
      .updateTable('org_sso_configs')
      .set({ password_login_allowed: false })
      .where('org_id', '=', orgId)
      .execute();
  };

  it("is never refused by the org's SSO settings, nor recorded in the org's chain: the account is the person's", async () => {
    const member = await newUser(app, 'pw');
    const other = await createOrg(app, owner);
    await grantMembership(app, other.id, member.userId, 'member');
    await makeSsoOnly(other.id);
    const before = (await ssoAudit(other.id)).length;

    const signedIn = await login(app, member.email, member.password);
    expect(signedIn.status).toBe(200);
    for (const path of ['/api/sessions/current', '/api/sessions', '/api/accounts/activity', '/api/orgs']) {
      const res = await app.request('GET', path, { token: signedIn.body.token });
      expect([path, res.status]).toEqual([path, 200]);
    }
    expect(await ssoAudit(other.id)).toHaveLength(before);
  });

  it('is never refused by an SSO-only org whose membership expired', async () => {
    const member = await newUser(app, 'lapsed');
    const other = await createOrg(app, owner);
    await grantMembership(app, other.id, member.userId, 'member', new Date(Date.now() - 60_000));
    await makeSsoOnly(other.id);
    expect((await login(app, member.email, member.password)).status).toBe(200);
  });

  it('cannot be made SSO-only from a session the change would lock out at once', async () => {
    const other = await createOrg(app, owner);
    await stepUp(owner);
    const settings = providerSettings(idp);
    expect((await configure(owner, other.id, settings)).status).toBe(200);
    const locking = await configure(owner, other.id, { ...settings, passwordLoginAllowed: false });
    expect([locking.status, locking.body.error.code]).toEqual([409, 'CONFLICT']);
    const off = await app.request('DELETE', `/api/orgs/${other.id}/sso`, { token: owner.token });
    expect(off.status).toBe(204);
  });
});

describe('SSO and an expired membership', () => {
  it('neither renews nor signs into a membership that expired: 403, audited, no session', async () => {
    idp.user = { sub: 'idp-lapsed', email: `lapsed-${Date.now()}@acme.test`, email_verified: true };
    const first = await start(org.slug);
    const joined = await callback(await authorizeAtProvider(first.location, redirectUri), first.stateCookie);
    expect(joined.status).toBe(302);
    const token = cookieOf(joined, '__Host-sf_session') ?? '';
    const current = await app.request('GET', '/api/sessions/current', { token });
    const userId: string = current.body.user.id;
    const past = new Date(app.runtime.platform.clock.now().getTime() - 60_000);
    await app.runtime.platform.db
      .updateTable('memberships')
      .set({ expires_at: past })
      .where('org_id', '=', org.id)
      .where('user_id', '=', userId)
      .execute();
    const sessionsOf = async () =>
      (
        await app.runtime.platform.db
          .selectFrom('sessions')
          .select('id')
          .where('user_id', '=', userId)
          .execute()
      ).length;
    const sessionsBefore = await sessionsOf();

    const again = await start(org.slug);
    const refused = await callback(await authorizeAtProvider(again.location, redirectUri), again.stateCookie);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    expect(cookieOf(refused, '__Host-sf_session')).toBeUndefined();
    expect((await ssoAudit(org.id)).at(-1)).toMatchObject({
      action: 'sso.login',
      outcome: 'refused',
      reason: 'membership_expired',
    });
    const membership = await app.runtime.platform.db
      .selectFrom('memberships')
      .select('expires_at')
      .where('org_id', '=', org.id)
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(membership.expires_at).toEqual(past);
    expect(await sessionsOf()).toBe(sessionsBefore);
  });
});
