import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type LoopbackDns, startLoopbackDns } from '../helpers/dns.js';
import { type FakeGoogleCerts, fakeGoogleCerts } from '../helpers/firebase.js';
import { freePort, type InProcessProvider, startOidcProvider } from '../helpers/oidc.js';
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
  providerSettings,
  sessionOf,
  ssoAudit,
  ssoLogin,
  stepUp,
} from '../helpers/sso.js';

/**
 * Verified domains over HTTP: the TXT record proven against a DNS server on loopback, the first
 * verifier holding the domain, SSO enforcement at sign-in for that domain's accounts (with the
 * owners' audited break-glass), and the mailed confirmation that alone lets the org's IdP reach an
 * existing account of its domain.
 */
let app: TestApp;
let dns: LoopbackDns;
let idp: InProcessProvider;
let google: FakeGoogleCerts;
let redirectUri: string;
let counter = 0;

beforeAll(async () => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  redirectUri = `${appUrl}/api/login/sso/callback`;
  dns = await startLoopbackDns();
  idp = await startOidcProvider(redirectUri);
  google = await fakeGoogleCerts();
  app = await startTestApp({
    env: {
      ...orgTestEnv,
      PORT: String(port),
      APP_URL: appUrl,
      DNS_RESOLVER: dns.address,
      FIREBASE_PROJECT_ID: google.projectId,
    },
  });
}, 240_000);

afterAll(async () => {
  await app?.stop();
  await idp?.stop();
  await google?.stop();
  await dns?.stop();
});

const unique = (label: string) => `${label}${++counter}x${Date.now()}`;
const freshDomain = () => `${unique('corp')}.test`;

/** A signed-up, verified, signed-in user with this exact address. */
async function userAt(email: string): Promise<TestUser> {
  const password = 'a long enough passphrase 42';
  const signup = await app.request('POST', '/api/accounts/signup', {
    body: { email, password, name: 'Domain User' },
    headers: { 'x-forwarded-for': nextIp() },
  });
  expect(signup.status, signup.text).toBe(202);
  await app.settle();
  const verify = await app.request('POST', '/api/accounts/verify-email', {
    body: { token: app.tokenFromMail(email, 'verify-email') },
    headers: { 'x-forwarded-for': nextIp() },
  });
  expect(verify.status, verify.text).toBe(200);
  const signedIn = await login(app, email, password);
  expect(signedIn.status, signedIn.text).toBe(200);
  return { token: signedIn.body.token, userId: signedIn.body.user.id, email, password };
}

async function claim(owner: TestUser, orgId: string, domain: string) {
  return app.request('POST', `/api/orgs/${orgId}/domains`, { token: owner.token, body: { domain } });
}

function verify(owner: TestUser, orgId: string, domain: string) {
  return app.request('POST', `/api/orgs/${orgId}/domains/${domain}/verify`, { token: owner.token });
}

/** Claims, publishes the TXT record on the loopback DNS, and verifies: the domain is the org's. */
async function verifiedDomain(owner: TestUser, orgId: string, domain = freshDomain()) {
  const claimed = await claim(owner, orgId, domain);
  expect(claimed.status, claimed.text).toBe(201);
  dns.txt.set(claimed.body.txtName, [[claimed.body.txtRecord]]);
  const verified = await verify(owner, orgId, domain);
  expect(verified.status, verified.text).toBe(200);
  return domain;
}

/** An org whose SSO is the in-process provider for `domain`, the owner stepped up. */
async function ssoOrgFor(owner: TestUser, domain: string) {
  const org = await createOrg(app, owner);
  await stepUp(app, owner);
  const put = await configureSso(
    app,
    owner.token,
    org.id,
    providerSettings(idp, { allowedDomains: [domain] }),
  );
  expect(put.status, put.text).toBe(200);
  return org;
}

function setPolicy(user: TestUser, orgId: string, body: Record<string, unknown>) {
  return app.request('PATCH', `/api/orgs/${orgId}/policy`, { token: user.token, body });
}

describe('claiming and verifying a domain', () => {
  it('only a stepped-up owner claims a domain; the answer is the TXT record to publish', async () => {
    const owner = await newUser(app, 'dom-owner');
    const org = await createOrg(app, owner);
    const admin = await newUser(app, 'dom-admin');
    await grantMembership(app, org.id, admin.userId, 'admin');
    await stepUp(app, admin);
    const domain = freshDomain();

    const asAdmin = await claim(admin, org.id, domain);
    expect([asAdmin.status, asAdmin.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    const unstepped = await claim(owner, org.id, domain);
    expect([unstepped.status, unstepped.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);

    await stepUp(app, owner);
    const claimed = await claim(owner, org.id, domain.toUpperCase());
    expect(claimed.status, claimed.text).toBe(201);
    expect(claimed.body).toMatchObject({
      domain,
      txtName: `_sessionforge-verification.${domain}`,
      verified: false,
    });
    expect(claimed.body.txtRecord).toMatch(/^sessionforge-verification=[A-Za-z0-9_-]{20,}$/);
    const again = await claim(owner, org.id, domain);
    expect([again.status, again.body.error.code]).toEqual([409, 'CONFLICT']);
    const bad = await claim(owner, org.id, 'not a domain');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('verify passes only when the TXT record carries exactly this org’s value', async () => {
    const owner = await newUser(app, 'dom-verify');
    const org = await createOrg(app, owner);
    await stepUp(app, owner);
    const domain = freshDomain();
    const claimed = await claim(owner, org.id, domain);

    const missing = await verify(owner, org.id, domain);
    expect([missing.status, missing.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    // A record that merely contains the value, or sits at the apex, proves nothing.
    dns.txt.set(claimed.body.txtName, [[`x${claimed.body.txtRecord}`]]);
    dns.txt.set(domain, [[claimed.body.txtRecord]]);
    expect((await verify(owner, org.id, domain)).status).toBe(400);
    // Long records arrive split in 255-byte strings; they are read joined.
    const value: string = claimed.body.txtRecord;
    dns.txt.set(claimed.body.txtName, [['v=spf1 -all'], [value.slice(0, 10), value.slice(10)]]);
    const verified = await verify(owner, org.id, domain);
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body).toMatchObject({ domain, verified: true });

    const listed = await app.request('GET', `/api/orgs/${org.id}/domains`, { token: owner.token });
    expect(listed.body.domains).toEqual([expect.objectContaining({ domain, verified: true })]);
    expect(
      (await ssoAudit(app, org.id))
        .filter((r) => r.action === 'policy.updated')
        .map((r) => (r as { domain?: unknown }).domain),
    ).toEqual([
      { name: domain, change: 'added' },
      { name: domain, change: 'verified' },
    ]);
    const unknown = await verify(owner, org.id, freshDomain());
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('the first org to verify a domain holds it: a second org can neither claim nor verify it until it is let go', async () => {
    const first = await newUser(app, 'dom-first');
    const firstOrg = await createOrg(app, first);
    const second = await newUser(app, 'dom-second');
    const secondOrg = await createOrg(app, second);
    await stepUp(app, first);
    await stepUp(app, second);
    const domain = freshDomain();

    // Both claim while it is free; each gets its own value.
    const secondClaim = await claim(second, secondOrg.id, domain);
    expect(secondClaim.status).toBe(201);
    await verifiedDomain(first, firstOrg.id, domain);
    expect(secondClaim.body.txtRecord).not.toBe(dns.txt.get(secondClaim.body.txtName)?.[0]?.[0]);

    dns.txt.set(secondClaim.body.txtName, [[secondClaim.body.txtRecord]]);
    const lateVerify = await verify(second, secondOrg.id, domain);
    expect([lateVerify.status, lateVerify.body.error.code]).toEqual([409, 'CONFLICT']);
    const third = await newUser(app, 'dom-third');
    const thirdOrg = await createOrg(app, third);
    await stepUp(app, third);
    const lateClaim = await claim(third, thirdOrg.id, domain);
    expect([lateClaim.status, lateClaim.body.error.code]).toEqual([409, 'CONFLICT']);

    // Let go by its holder, the domain is the next verifier's.
    const released = await app.request('DELETE', `/api/orgs/${firstOrg.id}/domains/${domain}`, {
      token: first.token,
    });
    expect(released.status, released.text).toBe(204);
    const nowVerified = await verify(second, secondOrg.id, domain);
    expect(nowVerified.status, nowVerified.text).toBe(200);
  });
});

describe('enforced SSO for the org’s verified domain', () => {
  it('only a stepped-up owner of an org with SSO turns enforcement on', async () => {
    const owner = await newUser(app, 'enf-owner');
    const bare = await createOrg(app, owner);
    await stepUp(app, owner);
    const noSso = await setPolicy(owner, bare.id, { enforceSso: true });
    expect([noSso.status, noSso.body.error.code]).toEqual([409, 'CONFLICT']);

    const org = await ssoOrgFor(owner, freshDomain());
    const admin = await newUser(app, 'enf-admin');
    await grantMembership(app, org.id, admin.userId, 'admin');
    await stepUp(app, admin);
    const asAdmin = await setPolicy(admin, org.id, { enforceSso: true });
    expect([asAdmin.status, asAdmin.body.error.code]).toEqual([403, 'INSUFFICIENT_ROLE']);
    // Admins keep the rest of the policy.
    expect((await setPolicy(admin, org.id, { requireMfa: false })).status).toBe(200);

    const owner2 = await login(app, owner.email, owner.password);
    const unstepped = await setPolicy({ ...owner, token: owner2.body.token }, org.id, { enforceSso: true });
    expect([unstepped.status, unstepped.body.error.code]).toEqual([403, 'STEP_UP_REQUIRED']);
    const on = await setPolicy(owner, org.id, { enforceSso: true });
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ enforceSso: true, allowBreakGlass: false });
  });

  it('password and Google sign-in of an account at the domain answer SSO_REQUIRED with ssoUrl; other domains and wrong passwords are unchanged', async () => {
    const domain = freshDomain();
    const owner = await newUser(app, 'enf-pw-owner');
    const org = await ssoOrgFor(owner, domain);
    const employee = await userAt(`${unique('emp')}@${domain}`);
    const googleEmployee = `${unique('g')}@${domain}`;
    const googleLogin = async () =>
      app.request('POST', '/api/login/oauth', {
        body: { idToken: await google.idToken({ claims: { email: googleEmployee } }) },
        headers: { 'x-forwarded-for': nextIp() },
      });
    expect((await googleLogin()).status).toBe(200);

    // Enforcement without a verified domain reaches nobody.
    expect((await setPolicy(owner, org.id, { enforceSso: true })).status).toBe(200);
    expect((await login(app, employee.email, employee.password)).status).toBe(200);

    await verifiedDomain(owner, org.id, domain);
    const refused = await login(app, employee.email, employee.password);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'SSO_REQUIRED']);
    expect(refused.body.error.ssoUrl).toMatch(new RegExp(`/api/login/sso/${org.slug}$`));
    expect(sessionOf(refused)).toBeUndefined();
    const upper = await login(app, employee.email.toUpperCase(), employee.password);
    expect(upper.status).toBe(403);
    const viaGoogle = await googleLogin();
    expect([viaGoogle.status, viaGoogle.body.error.code]).toEqual([403, 'SSO_REQUIRED']);
    // Someone without the password learns nothing about the domain's rule.
    const wrong = await login(app, employee.email, 'not the passphrase at all');
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    // Addresses elsewhere (a look-alike suffix too) sign in as before.
    const outsider = await userAt(`${unique('out')}@evil-${domain}`);
    expect((await login(app, outsider.email, outsider.password)).status).toBe(200);

    // Turned off, the password works again.
    expect((await setPolicy(owner, org.id, { enforceSso: false })).status).toBe(200);
    expect((await login(app, employee.email, employee.password)).status).toBe(200);
  });

  it('owners keep a password way in only with allowBreakGlass, audited each time; other members never', async () => {
    const domain = freshDomain();
    const founder = await newUser(app, 'enf-founder');
    const org = await ssoOrgFor(founder, domain);
    await verifiedDomain(founder, org.id, domain);
    const owner = await userAt(`${unique('boss')}@${domain}`);
    await grantMembership(app, org.id, owner.userId, 'owner');
    const admin = await userAt(`${unique('adm')}@${domain}`);
    await grantMembership(app, org.id, admin.userId, 'admin');
    expect((await setPolicy(founder, org.id, { enforceSso: true })).status).toBe(200);

    const locked = await login(app, owner.email, owner.password);
    expect([locked.status, locked.body.error.code]).toEqual([403, 'SSO_REQUIRED']);

    expect((await setPolicy(founder, org.id, { allowBreakGlass: true })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const glass = await login(app, owner.email, owner.password);
      expect(glass.status, glass.text).toBe(200);
    }
    const adminTry = await login(app, admin.email, admin.password);
    expect([adminTry.status, adminTry.body.error.code]).toEqual([403, 'SSO_REQUIRED']);
    const fallbacks = (await ssoAudit(app, org.id)).filter((r) => r.action === 'sso.fallback');
    expect(fallbacks).toEqual([
      expect.objectContaining({ actorId: owner.userId, reason: 'break_glass', method: 'password' }),
      expect.objectContaining({ actorId: owner.userId, reason: 'break_glass', method: 'password' }),
    ]);
  });
});

describe("the org's IdP and existing accounts of its domain", () => {
  it('an unverified domain links nothing; the verified domain sends the owner a mail, and only their click links the identity', async () => {
    const domain = freshDomain();
    const owner = await newUser(app, 'link-owner');
    const org = await ssoOrgFor(owner, domain);
    const employee = await userAt(`${unique('old')}@${domain}`);
    const subject = unique('sub');
    idp.user = { sub: subject, email: employee.email, email_verified: true, name: 'Employee' };

    const before = await ssoLogin(app, org.slug, redirectUri);
    expect([before.status, before.body.error.requirement]).toEqual([401, 'link_identity']);

    await verifiedDomain(owner, org.id, domain);
    const asked = await ssoLogin(app, org.slug, redirectUri);
    expect([asked.status, asked.body.error.code, asked.body.error.requirement]).toEqual([
      401,
      'INVALID_CREDENTIALS',
      'confirm_link_by_mail',
    ]);
    expect(sessionOf(asked)).toBeUndefined();
    expect(await identitiesOf(app, org.id)).toEqual([]);
    await app.settle();
    const mail = app.mails().findLast((m) => m.to === employee.email && m.action.type === 'sso-link');
    expect(mail?.text).toContain('Nothing has changed yet');
    const token = new URL(mail?.action.url ?? 'http://x').searchParams.get('token') ?? '';

    const confirmed = await app.request('POST', '/api/login/sso/confirm-link', {
      body: { token },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toEqual({ linked: true, orgSlug: org.slug });
    expect(await identitiesOf(app, org.id)).toEqual([
      expect.objectContaining({ subject, user_id: employee.userId }),
    ]);
    const replay = await app.request('POST', '/api/login/sso/confirm-link', {
      body: { token },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect([replay.status, replay.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);

    const signedIn = await ssoLogin(app, org.slug, redirectUri);
    expect(signedIn.status, signedIn.text).toBe(302);
    const current = await app.request('GET', '/api/sessions/current', { token: sessionOf(signedIn) ?? '' });
    expect(current.body.user.id).toBe(employee.userId);
  });

  it('an org whose IdP asserts addresses of a domain another org verified gets no mail sent and no link', async () => {
    const domain = freshDomain();
    const holder = await newUser(app, 'link-holder');
    const holderOrg = await createOrg(app, holder);
    await stepUp(app, holder);
    await verifiedDomain(holder, holderOrg.id, domain);
    const attacker = await newUser(app, 'link-attacker');
    const org = await ssoOrgFor(attacker, domain);
    const victim = await userAt(`${unique('victim')}@${domain}`);
    idp.user = { sub: unique('sub'), email: victim.email, email_verified: true };
    const res = await ssoLogin(app, org.slug, redirectUri);
    expect([res.status, res.body.error.requirement]).toEqual([401, 'link_identity']);
    await app.settle();
    expect(app.mails().filter((m) => m.to === victim.email && m.action.type === 'sso-link')).toEqual([]);
  });

  it('a confirmation mailed before the org let go of the domain links nothing afterwards', async () => {
    const domain = freshDomain();
    const owner = await newUser(app, 'link-release');
    const org = await ssoOrgFor(owner, domain);
    await verifiedDomain(owner, org.id, domain);
    const employee = await userAt(`${unique('rel')}@${domain}`);
    idp.user = { sub: unique('sub'), email: employee.email, email_verified: true };
    expect((await ssoLogin(app, org.slug, redirectUri)).body.error.requirement).toBe('confirm_link_by_mail');
    await app.settle();
    const token = app.tokenFromMail(employee.email, 'sso-link');
    await app.request('DELETE', `/api/orgs/${org.id}/domains/${domain}`, { token: owner.token });
    const late = await app.request('POST', '/api/login/sso/confirm-link', {
      body: { token },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect([late.status, late.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await identitiesOf(app, org.id)).toEqual([]);
  });
});
