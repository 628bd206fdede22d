import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/meta/all-routes.js';
import { makeEnvelope } from '../../shared/bus/envelope.js';
import { DAY_MS, FakeClock } from '../../shared/time/clock.js';
import { type ApiResponse, startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  grantMembership,
  insertSession,
  insertUser,
  newUser,
  orgAudit,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

const clock = new FakeClock('2026-05-04T09:00:00Z');
const SCIM_JSON = 'application/scim+json';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let app: TestApp;
let owner: TestUser;
let ownerSudo: string;
let orgId: string;
let scimToken: string;
let otherOwner: TestUser;
let otherOrgId: string;
let otherToken: string;
let seq = 0;
const uniqueEmail = (label: string, domain = 'corp-unverified.test') =>
  `${label}${++seq}-${Date.now()}@${domain}`;

function scim(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return app.request(method, `/api/scim/v2${path}`, {
    ...(token ? { token } : {}),
    ...(body !== undefined ? { raw: JSON.stringify(body) } : {}),
    headers: { ...(body !== undefined ? { 'content-type': SCIM_JSON } : {}), ...headers },
  });
}

function expectScimError(res: ApiResponse, status: number, scimType?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toContain(SCIM_JSON);
  expect(res.body.schemas).toEqual([ERROR]);
  expect(res.body.status).toBe(String(status));
  if (scimType) expect(res.body.scimType).toBe(scimType);
  expect(typeof res.body.detail).toBe('string');
}

async function newScimToken(token: string, org: string, name = 'Okta'): Promise<string> {
  const res = await app.request('POST', `/api/orgs/${org}/scim-tokens`, { token, body: { name } });
  expect(res.status, res.text).toBe(201);
  expect(res.body.token).toMatch(/^sf_scim_/);
  return res.body.token;
}

async function provision(email: string, extra: Record<string, unknown> = {}, token = scimToken) {
  return scim('POST', '/Users', token, {
    schemas: [USER],
    userName: email,
    name: { givenName: 'Ann', familyName: 'Lee' },
    active: true,
    ...extra,
  });
}

function membership(userId: string, org = orgId) {
  return app.runtime.platform.db
    .selectFrom('memberships')
    .selectAll()
    .where('org_id', '=', org)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'scim-owner');
  orgId = (await createOrg(app, owner)).id;
  ownerSudo = await sudoToken(app, owner);
  scimToken = await newScimToken(ownerSudo, orgId);
  otherOwner = await newUser(app, 'scim-other');
  otherOrgId = (await createOrg(app, otherOwner)).id;
  otherToken = await newScimToken(await sudoToken(app, otherOwner), otherOrgId);
});
afterAll(async () => {
  await app?.stop();
});

describe('SCIM tokens', () => {
  it('need an owner in step-up; admins see the list without secrets', async () => {
    const admin = await newUser(app, 'scim-admin');
    await grantMembership(app, orgId, admin.userId, 'admin');
    const byAdmin = await app.request('POST', `/api/orgs/${orgId}/scim-tokens`, {
      token: await sudoToken(app, admin),
      body: { name: 'x' },
    });
    expect(byAdmin.status).toBe(403);
    const noStepUp = await app.request('POST', `/api/orgs/${orgId}/scim-tokens`, {
      token: owner.token,
      body: { name: 'x' },
    });
    expect(noStepUp.status).toBe(403);
    expect(noStepUp.body.error.code).toBe('STEP_UP_REQUIRED');
    const listed = await app.request('GET', `/api/orgs/${orgId}/scim-tokens`, { token: admin.token });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.length).toBeGreaterThan(0);
    expect(listed.text).not.toContain(scimToken);
    expect(listed.body.tokens[0]).not.toHaveProperty('token');
    const stored = await app.runtime.platform.db.selectFrom('scim_tokens').select('token_hash').execute();
    for (const row of stored) expect(row.token_hash.toString('utf8')).not.toContain('sf_scim_');
  });

  it('a revoked token fails on the very next request, and the audit has both ends', async () => {
    const token = await newScimToken(ownerSudo, orgId, 'to revoke');
    expect((await scim('GET', '/Users', token)).status).toBe(200);
    const listed = await app.request('GET', `/api/orgs/${orgId}/scim-tokens`, { token: owner.token });
    const id = listed.body.tokens.find((t: { name: string }) => t.name === 'to revoke').id;
    const byOther = await app.request('DELETE', `/api/orgs/${otherOrgId}/scim-tokens/${id}`, {
      token: await sudoToken(app, otherOwner),
    });
    expect(byOther.status).toBe(404);
    const revoked = await app.request('DELETE', `/api/orgs/${orgId}/scim-tokens/${id}`, { token: ownerSudo });
    expect(revoked.status).toBe(204);
    expectScimError(await scim('GET', '/Users', token), 401);
    const actions = (await orgAudit(app, orgId)).map((r) => r.action);
    expect(actions).toContain('scim.token_created');
    expect(actions).toContain('scim.token_revoked');
  });

  it('sessions, API keys, cookies, garbage and no credential never pass SCIM routes', async () => {
    expectScimError(await scim('GET', '/Users', owner.token), 401);
    expectScimError(await scim('GET', '/Users', undefined), 401);
    expectScimError(await scim('GET', '/Users', `sf_scim_${'A'.repeat(43)}`), 401);
    expectScimError(await scim('GET', '/Users', 'sf_scim_short'), 401);
    const basic = await scim('GET', '/Users', undefined, undefined, {
      authorization: `Basic ${Buffer.from(`x:${scimToken}`).toString('base64')}`,
    });
    expectScimError(basic, 401);
    const cookie = await scim('GET', '/Users', undefined, undefined, {
      cookie: `__Host-sf_session=${scimToken}`,
    });
    expectScimError(cookie, 401);
    // and a SCIM token is no session on the rest of the API
    const asSession = await app.request('GET', `/api/orgs/${orgId}/members`, { token: scimToken });
    expect(asSession.status).toBe(401);
  });
  it('a SCIM token opens no route but the SCIM ones: every session, org and key route answers 401', async () => {
    const routes = allRoutes().filter((r) => r.auth.kind !== 'none' && r.auth.kind !== 'scim');
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      const path = route.path
        .replace(':orgId', orgId)
        .replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000000');
      const res = await app.request(route.method, path, { token: scimToken, headers: { origin: app.url } });
      expect(res.status, `${route.method} ${route.path}`).toBe(401);
    }
  });
});

describe('SCIM attacks', () => {
  it("another org's token sees none of this org's users (404, absent from lists)", async () => {
    const created = await provision(uniqueEmail('victim'));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expectScimError(await scim('GET', `/Users/${id}`, otherToken), 404);
    expectScimError(
      await scim('PATCH', `/Users/${id}`, otherToken, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      }),
      404,
    );
    expectScimError(
      await scim('PUT', `/Users/${id}`, otherToken, {
        schemas: [USER],
        userName: created.body.userName,
        active: false,
      }),
      404,
    );
    expectScimError(await scim('DELETE', `/Users/${id}`, otherToken), 404);
    const filtered = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${created.body.userName}"`)}`,
      otherToken,
    );
    expect(filtered.body.totalResults).toBe(0);
    const group = await scim('PATCH', '/Groups/admin', otherToken, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
    });
    expectScimError(group, 400, 'invalidValue');
    expect((await membership(id))?.role).toBe('member');
    expect(await membership(id, otherOrgId)).toBeUndefined();
  });

  it('a token stops when its org is deleted', async () => {
    const doomedOwner = await newUser(app, 'doomed');
    const doomed = await createOrg(app, doomedOwner);
    const sudo = await sudoToken(app, doomedOwner);
    const token = await newScimToken(sudo, doomed.id);
    expect((await scim('GET', '/Users', token)).status).toBe(200);
    const deleted = await app.request('DELETE', `/api/orgs/${doomed.id}`, {
      token: sudo,
      body: { confirmSlug: doomed.slug },
    });
    expect(deleted.status, deleted.text).toBe(202);
    expectScimError(await scim('GET', '/Users', token), 401);
    expectScimError(await provision(uniqueEmail('after-deletion'), {}, token), 401);
    const row = await app.runtime.platform.db
      .selectFrom('scim_tokens')
      .select('revoked_at')
      .where('org_id', '=', doomed.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).not.toBeNull();
    const stopped = (await orgAudit(app, doomed.id)).find((r) => r.action === 'org.deletion_requested');
    const metadata = stopped?.metadata as { stopped: Record<string, string[]> } | undefined;
    expect(metadata?.stopped.scimTokens).toHaveLength(1);
  });

  it.each([
    ['userName ne "x"'],
    ['userName eq "x" or userName eq "y"'],
    ['userName eq "x") or (1 eq 1'],
    ['password eq "x"'],
    ["userName eq 'x'"],
    ['userName eq "x\\"'],
    ['userName co "a"'],
    ['userName eq x'],
    ['emails[type eq "work"].value eq "x"'],
    ['userName eq "x"; drop table users'],
    [`userName eq "${'a'.repeat(2000)}"`],
  ])('a filter outside the grammar answers 400 invalidFilter: %s', async (filter) => {
    const res = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`, scimToken);
    expectScimError(res, 400, filter.length > 2048 ? 'invalidValue' : 'invalidFilter');
  });

  it('a quote or a LIKE pattern in the value is data, not syntax', async () => {
    for (const value of ['%', '_', "' or 1=1 --", '%@%']) {
      const res = await scim(
        'GET',
        `/Users?filter=${encodeURIComponent(`userName eq "${value}"`)}`,
        scimToken,
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body.totalResults).toBe(0);
    }
    // The database refuses NUL in text: it is refused before it gets there.
    const nul = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "\\u0000x"')}`, scimToken);
    expectScimError(nul, 400, 'invalidFilter');
    expectScimError(await provision('a\u0000b@x.test'), 400, 'invalidValue');
    expectScimError(await provision(uniqueEmail('nul-ext'), { externalId: 'a\u0000' }), 400, 'invalidValue');
  });

  it('huge, malformed and mistyped bodies are refused in SCIM form', async () => {
    const huge = await app.request('POST', '/api/scim/v2/Users', {
      token: scimToken,
      raw: JSON.stringify({ schemas: [USER], userName: 'big@x.test', pad: 'x'.repeat(300 * 1024) }),
      headers: { 'content-type': SCIM_JSON },
    });
    expectScimError(huge, 413);
    const notJson = await app.request('POST', '/api/scim/v2/Users', {
      token: scimToken,
      raw: '{"userName":',
      headers: { 'content-type': SCIM_JSON },
    });
    expectScimError(notJson, 400, 'invalidSyntax');
    const noUserName = await scim('POST', '/Users', scimToken, { schemas: [USER] });
    expectScimError(noUserName, 400, 'invalidValue');
    const notEmail = await scim('POST', '/Users', scimToken, { schemas: [USER], userName: 'bjensen' });
    expectScimError(notEmail, 400, 'invalidValue');
    const xml = await app.request('POST', '/api/scim/v2/Users', {
      token: scimToken,
      raw: '<User/>',
      headers: { 'content-type': 'application/xml' },
    });
    expectScimError(xml, 415);
    const manyOps = await scim('PATCH', `/Users/${owner.userId}`, scimToken, {
      schemas: [PATCH],
      Operations: Array.from({ length: 101 }, () => ({ op: 'replace', path: 'active', value: true })),
    });
    expectScimError(manyOps, 400);
  });

  it('a SCIM token can neither touch an owner nor make one', async () => {
    const id = owner.userId;
    expectScimError(
      await scim('PATCH', `/Users/${id}`, scimToken, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      }),
      403,
    );
    expectScimError(
      await scim('PUT', `/Users/${id}`, scimToken, { schemas: [USER], userName: owner.email, active: false }),
      403,
    );
    expectScimError(await scim('DELETE', `/Users/${id}`, scimToken), 403);
    expectScimError(
      await scim('PATCH', '/Groups/viewer', scimToken, {
        schemas: [PATCH],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      }),
      403,
    );
    expectScimError(
      await scim('PUT', '/Groups/admin', scimToken, {
        schemas: [USER],
        displayName: 'Admins',
        members: [{ value: id }],
      }),
      403,
    );
    expectScimError(await scim('GET', '/Groups/owner', scimToken), 404);
    const ownerGroup = await scim('PATCH', '/Groups/owner', scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
    });
    expectScimError(ownerGroup, 404);
    expectScimError(await scim('POST', '/Groups', scimToken, { displayName: 'Owners' }), 403);
    // Group changes are all or nothing: a member next to the owner keeps their role too.
    const created = await provision(uniqueEmail('beside-owner'));
    const both = await scim('PATCH', '/Groups/admin', scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: created.body.id }, { value: id }] }],
    });
    expectScimError(both, 403);
    expect((await membership(created.body.id))?.role).toBe('member');
    expect((await membership(id))?.role).toBe('owner');
    // PATCH cannot smuggle a role through the User's groups
    const smuggle = await scim('PATCH', `/Users/${created.body.id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'groups', value: [{ value: 'owner' }] }],
    });
    expectScimError(smuggle, 400, 'mutability');
    // nor take over another address by renaming the User
    const rename = await scim('PATCH', `/Users/${created.body.id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'userName', value: owner.email }],
    });
    expectScimError(rename, 400, 'mutability');
    expect((await membership(created.body.id))?.role).toBe('member');
  });

  it('an existing account in a domain the org has not verified only gets an invitation', async () => {
    const victim = await newUser(app, 'existing');
    const res = await provision(victim.email);
    expect(res.status, res.text).toBe(201);
    expect(res.body.active).toBe(false);
    expect(res.body.id).toBe(victim.userId);
    expect(await membership(victim.userId)).toBeUndefined();
    await app.settle();
    const invitation = app.tokenFromMail(victim.email, 'invitation');
    // The victim's sessions are untouched and see no org until they accept.
    const orgs = await app.request('GET', '/api/orgs', { token: victim.token });
    expect(orgs.body.orgs.map((o: { id: string }) => o.id)).not.toContain(orgId);
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: victim.token,
      body: { token: invitation },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect((await membership(victim.userId))?.role).toBe('member');
    const now = await scim('GET', `/Users/${victim.userId}`, scimToken);
    expect(now.body.active).toBe(true);
    const audit = (await orgAudit(app, orgId)).filter(
      (r) => r.action === 'scim.user_provisioned' && r.target_id === victim.userId,
    );
    expect(audit[0]?.metadata).toMatchObject({ outcome: 'invited' });
    expect(JSON.stringify(audit[0]?.metadata)).not.toContain(victim.email);
  });

  it('an existing account in a domain the org verified becomes a member; an unconfirmed one still only an invitation', async () => {
    const domain = `verified-${Date.now()}.test`;
    const db = app.runtime.platform.db;
    await db
      .insertInto('org_domains')
      .values({
        org_id: orgId,
        domain,
        txt_token: 't',
        verified_at: clock.now(),
        created_by: null,
        created_at: clock.now(),
      })
      .execute();
    const confirmed = await insertUser(app, 'confirmed');
    const email = `confirmed${++seq}@${domain}`;
    await db
      .updateTable('users')
      .set({ email, email_normalized: email })
      .where('id', '=', confirmed.userId)
      .execute();
    const attached = await provision(email);
    expect(attached.status, attached.text).toBe(201);
    expect(attached.body.active).toBe(true);
    expect((await membership(confirmed.userId))?.role).toBe('member');
    // Pre-registered and never confirmed: whoever registered it must not become a member.
    const squatter = await insertUser(app, 'squatter');
    const squatted = `squatted${++seq}@${domain}`;
    await db
      .updateTable('users')
      .set({ email: squatted, email_normalized: squatted, email_verified_at: null })
      .where('id', '=', squatter.userId)
      .execute();
    const invited = await provision(squatted);
    expect(invited.status).toBe(201);
    expect(invited.body.active).toBe(false);
    expect(await membership(squatter.userId)).toBeUndefined();
  });

  it("the org's IP allowlist binds its SCIM token like any credential", async () => {
    const netOwner = await newUser(app, 'scim-net');
    const net = await createOrg(app, netOwner);
    const sudo = await sudoToken(app, netOwner);
    const token = await newScimToken(sudo, net.id);
    const saved = await app.request('PUT', `/api/orgs/${net.id}/allowlist`, {
      token: sudo,
      body: { enabled: true, entries: [{ cidr: '203.0.113.0/24', label: 'IdP' }] },
      headers: { 'x-forwarded-for': '203.0.113.5' },
    });
    expect(saved.status, saved.text).toBe(200);
    expectScimError(
      await scim('GET', '/Users', token, undefined, { 'x-forwarded-for': '198.51.100.7' }),
      403,
    );
    expect((await scim('GET', '/Users', token, undefined, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(
      200,
    );
  });

  it('two concurrent creates of one userName: one 201, one 409', async () => {
    const email = uniqueEmail('race');
    const answers = await Promise.all([provision(email), provision(email)]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    const accounts = await app.runtime.platform.db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', email.toLowerCase())
      .execute();
    expect(accounts).toHaveLength(1);
  });

  it('provisioning the same userName twice answers 409 uniqueness', async () => {
    const email = uniqueEmail('twice');
    expect((await provision(email)).status).toBe(201);
    expectScimError(await provision(email.toUpperCase()), 409, 'uniqueness');
    expectScimError(
      await provision(uniqueEmail('dup-ext'), { externalId: 'dup-1' }).then(() =>
        provision(uniqueEmail('dup-ext'), { externalId: 'dup-1' }),
      ),
      409,
      'uniqueness',
    );
  });
});

describe('deprovisioning', () => {
  it("ends the member's sessions at once: their next request is 401; re-activation restores the role", async () => {
    const created = await provision(uniqueEmail('leaver'));
    const id = created.body.id;
    const role = await scim('PATCH', '/Groups/admin', scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
    });
    expect(role.status, role.text).toBe(200);
    const session = await insertSession(app, id, orgId);
    expect((await app.request('GET', `/api/orgs/${orgId}/members`, { token: session.token })).status).toBe(
      200,
    );
    const off = await scim('PATCH', `/Users/${id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.status, off.text).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await app.request('GET', `/api/orgs/${orgId}/members`, { token: session.token })).status).toBe(
      401,
    );
    expect(await membership(id)).toBeUndefined();
    const back = await scim('PATCH', `/Users/${id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(back.body.active).toBe(true);
    expect((await membership(id))?.role).toBe('admin');
    // the old session stays ended
    expect((await app.request('GET', `/api/orgs/${orgId}/members`, { token: session.token })).status).toBe(
      401,
    );
    const actions = (await orgAudit(app, orgId)).filter((r) => r.target_id === id).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining(['scim.user_provisioned', 'scim.group_changed', 'scim.user_deprovisioned']),
    );
  });

  it('DELETE ends the membership and its sessions; the User is gone after', async () => {
    const created = await provision(uniqueEmail('deleted'));
    const id = created.body.id;
    const session = await insertSession(app, id, orgId);
    const deleted = await scim('DELETE', `/Users/${id}`, scimToken);
    expect(deleted.status).toBe(204);
    expect((await app.request('GET', '/api/sessions/current', { token: session.token })).status).toBe(401);
    expectScimError(await scim('GET', `/Users/${id}`, scimToken), 404);
    expect(await membership(id)).toBeUndefined();
  });

  it('a personal session of a suspended member loses the org but not the account', async () => {
    const person = await newUser(app, 'personal');
    await grantMembership(app, orgId, person.userId, 'member');
    const off = await scim('PUT', `/Users/${person.userId}`, scimToken, {
      schemas: [USER],
      userName: person.email,
      active: false,
    });
    expect(off.status, off.text).toBe(200);
    expect((await app.request('GET', `/api/orgs/${orgId}/members`, { token: person.token })).status).toBe(
      404,
    );
    expect((await app.request('GET', '/api/sessions/current', { token: person.token })).status).toBe(200);
  });
});

describe('account deletion', () => {
  it('a suspended person who deletes their account is no SCIM User, and SCIM cannot bring them back', async () => {
    const person = await newUser(app, 'erased');
    await grantMembership(app, orgId, person.userId, 'member');
    const off = await scim('PATCH', `/Users/${person.userId}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.body.active).toBe(false);
    const deleted = await app.request('DELETE', '/api/accounts/me', { token: await sudoToken(app, person) });
    expect(deleted.status, deleted.text).toBe(202);
    expectScimError(await scim('GET', `/Users/${person.userId}`, scimToken), 404);
    const back = await scim('PATCH', `/Users/${person.userId}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: true }],
    });
    expectScimError(back, 404);
    expect(await membership(person.userId)).toBeUndefined();
  });
});

describe('RFC 7644 examples replayed', () => {
  it('§3.3 create: 201, Location, the resource with id and meta', async () => {
    const res = await scim('POST', '/Users', scimToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `bjensen${++seq}@example.com`,
      externalId: `bjensen-${seq}`,
      name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('content-type')).toContain(SCIM_JSON);
    expect(res.headers.get('location')).toBe(res.body.meta.location);
    expect(res.body).toMatchObject({
      schemas: [USER],
      externalId: `bjensen-${seq}`,
      name: { formatted: 'Ms. Barbara J Jensen III' },
      active: true,
      meta: { resourceType: 'User' },
    });
    expect(res.body.meta.location).toMatch(new RegExp(`/api/scim/v2/Users/${res.body.id}$`));
    const got = await scim('GET', `/Users/${res.body.id}`, scimToken);
    expect(got.body).toEqual(res.body);
  });

  it('§3.4.2 list with filter, startIndex and count: a ListResponse', async () => {
    for (let i = 0; i < 3; i++) expect((await provision(uniqueEmail('page'))).status).toBe(201);
    const all = await scim('GET', '/Users?startIndex=1&count=2', scimToken);
    expect(all.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      startIndex: 1,
      itemsPerPage: 2,
    });
    expect(all.body.Resources).toHaveLength(2);
    const next = await scim('GET', '/Users?startIndex=3&count=2', scimToken);
    expect(next.body.totalResults).toBe(all.body.totalResults);
    expect(next.body.Resources[0].id).not.toBe(all.body.Resources[1].id);
    expect(all.body.Resources[1].id < next.body.Resources[0].id).toBe(true);
    const beyond = await scim('GET', `/Users?startIndex=${all.body.totalResults + 1}`, scimToken);
    expect(beyond.body.Resources).toEqual([]);
    const zero = await scim('GET', '/Users?count=0', scimToken);
    expect(zero.body).toMatchObject({ totalResults: all.body.totalResults, itemsPerPage: 0 });
    const byExternal = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "bjensen-${seq - 3}"`)}`,
      scimToken,
    );
    expect(byExternal.status).toBe(200);
  });

  it('§3.5.2 PATCH examples: add members to a group, remove one by filter, replace', async () => {
    const a = (await provision(uniqueEmail('grp-a'))).body.id;
    const b = (await provision(uniqueEmail('grp-b'))).body.id;
    const added = await scim('PATCH', '/Groups/viewer', scimToken, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'add',
          path: 'members',
          value: [{ display: 'A', $ref: `x/Users/${a}`, value: a }, { value: b }],
        },
      ],
    });
    expect(added.status, added.text).toBe(200);
    expect(added.body.members.map((m: { value: string }) => m.value)).toEqual(expect.arrayContaining([a, b]));
    const removed = await scim('PATCH', '/Groups/viewer', scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${a}"]` }],
    });
    expect(removed.status, removed.text).toBe(200);
    expect((await membership(a))?.role).toBe('viewer'); // removal never raises
    const toAdmin = await scim('PATCH', '/Groups/admin', scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'members', value: [{ value: a }] }],
    });
    expect(toAdmin.status, toAdmin.text).toBe(200);
    expect((await membership(a))?.role).toBe('admin');
    const rename = await scim('PATCH', '/Groups/admin', scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Owners' }],
    });
    expectScimError(rename, 400, 'mutability');
    const bad = await scim('PATCH', `/Users/${a}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'explode', path: 'active', value: false }],
    });
    expectScimError(bad, 400);
    const noSchema = await scim('PATCH', `/Users/${a}`, scimToken, {
      schemas: [USER],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expectScimError(noSchema, 400, 'invalidSyntax');
  });

  it('§3.12 errors and the discovery endpoints', async () => {
    expectScimError(await scim('GET', '/Users/2819c223-7f76-453a-919d-413861904646', scimToken), 404);
    const config = await scim('GET', '/ServiceProviderConfig', scimToken);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      bulk: { supported: false },
    });
    const types = await scim('GET', '/ResourceTypes', scimToken);
    expect(types.body.Resources.map((t: { id: string }) => t.id)).toEqual(['User', 'Group']);
    expect((await scim('GET', '/ResourceTypes/User', scimToken)).body.endpoint).toBe('/Users');
    const schemas = await scim('GET', '/Schemas', scimToken);
    expect(schemas.body.Resources.map((s: { id: string }) => s.id)).toEqual([
      USER,
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
    expect((await scim('GET', `/Schemas/${USER}`, scimToken)).status).toBe(200);
    const groups = await scim(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Admins"')}&excludedAttributes=members`,
      scimToken,
    );
    expect(groups.body.totalResults).toBe(1);
    expect(groups.body.Resources[0]).not.toHaveProperty('members');
  });
});

describe('identity providers', () => {
  it("Okta's sequence: look up by userName, create, fetch, deactivate with PATCH active false", async () => {
    const email = uniqueEmail('okta');
    const lookup = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`,
      scimToken,
    );
    expect(lookup.status).toBe(200);
    expect(lookup.body).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim('POST', '/Users', scimToken, {
      schemas: [USER],
      userName: email,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: `00u${seq}okta`,
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(created.status, created.text).toBe(201);
    const found = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`,
      scimToken,
    );
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(created.body.id);
    const fetched = await scim('GET', `/Users/${created.body.id}`, scimToken);
    expect(fetched.body.userName).toBe(email);
    const deactivated = await scim('PATCH', `/Users/${created.body.id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivated.status, deactivated.text).toBe(200);
    expect(deactivated.body.active).toBe(false);
    // Okta's later lookups still find the deactivated user (to reactivate it)
    const again = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`,
      scimToken,
    );
    expect(again.body.Resources[0].active).toBe(false);
    // The account SCIM created has no password: it signs in through the org's SSO only.
    const account = await app.runtime.platform.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect((account as { password_hash?: unknown }).password_hash ?? null).toBeNull();
  });

  it('Entra ID\'s sequence: filter, create, PATCH with "Replace" and the string "False"', async () => {
    const email = uniqueEmail('entra');
    const probe = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "non-existent-user@x.test"')}`,
      scimToken,
    );
    expect(probe.body.totalResults).toBe(0);
    const created = await scim('POST', '/Users', scimToken, {
      schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: `entra-${seq}`,
      userName: email,
      active: true,
      displayName: 'Entra Person',
      emails: [{ primary: true, type: 'work', value: email }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Entra Person', familyName: 'Person', givenName: 'Entra' },
      roles: [],
    });
    expect(created.status, created.text).toBe(201);
    const byExternal = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "entra-${seq}"`)}`,
      scimToken,
    );
    expect(byExternal.body.Resources[0].id).toBe(created.body.id);
    const updated = await scim('PATCH', `/Users/${created.body.id}`, scimToken, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Renamed' },
        { op: 'Add', path: 'name.givenName', value: 'Renamed' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: email },
      ],
    });
    expect(updated.status, updated.text).toBe(200);
    const session = await insertSession(app, created.body.id, orgId);
    const disabled = await scim('PATCH', `/Users/${created.body.id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.body.active).toBe(false);
    expect((await app.request('GET', '/api/sessions/current', { token: session.token })).status).toBe(401);
    const enabled = await scim('PATCH', `/Users/${created.body.id}`, scimToken, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(enabled.body.active).toBe(true);
    const gone = await scim('DELETE', `/Users/${created.body.id}`, scimToken);
    expect(gone.status).toBe(204);
  });
});

describe('org purge', () => {
  // Last in the file: it moves the clock past the deletion grace period.
  it("deletes the org's SCIM tokens and what SCIM knew of its people", async () => {
    const purgedOwner = await newUser(app, 'purged');
    const org = await createOrg(app, purgedOwner);
    const sudo = await sudoToken(app, purgedOwner);
    const token = await newScimToken(sudo, org.id);
    const created = await provision(uniqueEmail('purged'), { externalId: 'purged-1' }, token);
    expect(created.status).toBe(201);
    await scim('PATCH', `/Users/${created.body.id}`, token, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(
      (await app.request('DELETE', `/api/orgs/${org.id}`, { token: sudo, body: { confirmSlug: org.slug } }))
        .status,
    ).toBe(202);
    clock.advance(8 * DAY_MS);
    const p = app.runtime.platform;
    await p.publisher.publish('maintenance-sweep', makeEnvelope('maintenance-sweep', {}, clock.now()));
    await p.localBus?.idle();
    await app.settle();
    const db = app.runtime.platform.db;
    expect(await db.selectFrom('scim_tokens').select('id').where('org_id', '=', org.id).execute()).toEqual(
      [],
    );
    expect(
      await db.selectFrom('scim_users').select('user_id').where('org_id', '=', org.id).execute(),
    ).toEqual([]);
    const purged = (await orgAudit(app, org.id)).at(-1);
    expect(purged?.action).toBe('org.deleted');
    expect(purged?.metadata).toMatchObject({ purged: { scimTokens: 1, scimUsers: 1 } });
  });
});
