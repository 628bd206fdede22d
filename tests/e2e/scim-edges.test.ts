import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { holdOrgLock } from '../helpers/db.js';
import {
  createOrg,
  grantMembership,
  newUser,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

/** Edges of the SCIM surface: paging numbers and look-alike names. */
const SCIM_JSON = 'application/scim+json';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let app: TestApp;
let owner: TestUser;
let orgId: string;
let scimToken: string;

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
  owner = await newUser(app, 'edges-owner');
  orgId = (await createOrg(app, owner)).id;
  const issued = await app.request('POST', `/api/orgs/${orgId}/scim-tokens`, {
    token: await sudoToken(app, owner),
    body: { name: 'Okta' },
  });
  scimToken = issued.body.token;
});
afterAll(async () => {
  await app?.stop();
});

function scim(method: string, path: string, body?: unknown) {
  return app.request(method, `/api/scim/v2${path}`, {
    token: scimToken,
    ...(body !== undefined ? { raw: JSON.stringify(body) } : {}),
    headers: body !== undefined ? { 'content-type': SCIM_JSON } : {},
  });
}

function role(userId: string) {
  return app.runtime.platform.db
    .selectFrom('memberships')
    .select('role')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst()
    .then((r) => r?.role);
}

describe('SCIM paging', () => {
  it('any startIndex and count answer a page or a SCIM 400, never a 500', async () => {
    for (const query of [
      'count=1e9',
      'count=1000000000',
      'count=-1',
      'startIndex=-5',
      'startIndex=0',
      'startIndex=1e20',
      'startIndex=9007199254740993',
      'startIndex=99999999999999999999999',
      'count=1.5',
      'startIndex=abc',
      'count=NaN',
      'count=Infinity',
      'startIndex=2147483648&count=200',
    ]) {
      const res = await scim('GET', `/Users?${query}`);
      expect([200, 400], `${query}: ${res.text}`).toContain(res.status);
      if (res.status === 200) expect(res.body.Resources.length).toBeLessThanOrEqual(200);
      const groups = await scim('GET', `/Groups?${query}`);
      expect([200, 400], `${query}: ${groups.text}`).toContain(groups.status);
    }
  });
});

describe('SCIM filters', () => {
  it('escapes, lone surrogates, look-alike quotes and long values answer a list or a SCIM 400, never a 500', async () => {
    for (const filter of [
      'userName eq "\\ud800@x.test"',
      'externalId eq "\\udfff"',
      'id eq "\\u0041"',
      'userName eq "a\\"b@x.test"',
      'userName eq \u201cowner@x.test\u201d',
      'userName eq "\u{1F600}@x.test"',
      `externalId eq "${'x'.repeat(1000)}"`,
      'userName eq "\\u0000"',
      'userName Eq "a@x.test"',
      'userName eq "a@x.test" or userName pr',
    ]) {
      const res = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect([200, 400], `${filter}: ${res.text}`).toContain(res.status);
      if (res.status === 200) expect(res.body.totalResults).toBe(0);
    }
  });
});

describe('look-alike userNames', () => {
  it("the owner's address in other case, or with spaces reaches no owner and makes no account for it", async () => {
    for (const variant of [owner.email.toUpperCase(), ` ${owner.email} `]) {
      const res = await scim('POST', '/Users', { schemas: [USER], userName: variant, active: false });
      expect(res.status, `${variant}: ${res.text}`).toBe(409);
    }
    const found = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${owner.email.toUpperCase()}"`)}`,
    );
    expect(found.body.Resources[0]?.id).toBe(owner.userId);
    const off = await scim('PATCH', `/Users/${owner.userId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.status).toBe(403);
    expect(await role(owner.userId)).toBe('owner');
  });
});

describe('an existing account provisioned inactive', () => {
  it('gets no invitation it could accept until the identity provider activates it', async () => {
    const person = await newUser(app, 'staged');
    const created = await scim('POST', '/Users', { schemas: [USER], userName: person.email, active: false });
    expect(created.status, created.text).toBe(201);
    expect(created.body.active).toBe(false);
    await app.settle();
    expect(app.mails().filter((m) => m.to === person.email && m.action.type === 'invitation')).toHaveLength(
      0,
    );
    expect(await role(person.userId)).toBeUndefined();

    const on = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: true }],
    });
    expect(on.status, on.text).toBe(200);
    await app.settle();
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: person.token,
      body: { token: app.tokenFromMail(person.email, 'invitation') },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(await role(person.userId)).toBe('member');
    expect((await scim('GET', `/Users/${created.body.id}`)).body.active).toBe(true);
  });

  it('an invitation withdrawn by active false is sent again by active true', async () => {
    const person = await newUser(app, 'withdrawn');
    const created = await scim('POST', '/Users', { schemas: [USER], userName: person.email });
    expect(created.status, created.text).toBe(201);
    await app.settle();
    const first = app.tokenFromMail(person.email, 'invitation');
    const setActive = (active: boolean) =>
      scim('PATCH', `/Users/${created.body.id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'active', value: active }],
      });
    expect((await setActive(false)).status).toBe(200);
    const stale = await app.request('POST', '/api/orgs/invitations/accept', {
      token: person.token,
      body: { token: first },
    });
    expect(stale.status).toBe(404);
    expect((await setActive(true)).status).toBe(200);
    await app.settle();
    const second = app.tokenFromMail(person.email, 'invitation');
    expect(second).not.toBe(first);
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: person.token,
      body: { token: second },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(await role(person.userId)).toBe('member');
  });
});

describe('a SCIM token outlives no owner who made it', () => {
  async function tokenBy(label: string) {
    const other = await newUser(app, label);
    await grantMembership(app, orgId, other.userId, 'owner');
    const issued = await app.request('POST', `/api/orgs/${orgId}/scim-tokens`, {
      token: await sudoToken(app, other),
      body: { name: `${label}'s Okta` },
    });
    expect(issued.status, issued.text).toBe(201);
    const token: string = issued.body.token;
    const use = () => app.request('GET', '/api/scim/v2/Users?count=1', { token });
    expect((await use()).status).toBe(200);
    return { other, use };
  }

  it('an owner removed by another owner: their SCIM token stops at once', async () => {
    const { other, use } = await tokenBy('removed-owner');
    const removed = await app.request('DELETE', `/api/orgs/${orgId}/members/${other.userId}`, {
      token: owner.token,
    });
    expect(removed.status, removed.text).toBeLessThan(300);
    expect((await use()).status).toBe(401);
  });

  it('an owner made an admin: their SCIM token (an owner-only credential) stops at once', async () => {
    const { other, use } = await tokenBy('demoted-owner');
    const demoted = await app.request('PATCH', `/api/orgs/${orgId}/members/${other.userId}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(demoted.status, demoted.text).toBe(200);
    expect((await use()).status).toBe(401);
  });

  it('an owner who leaves: their SCIM token stops at once', async () => {
    const { other, use } = await tokenBy('leaving-owner');
    const left = await app.request('POST', `/api/orgs/${orgId}/leave`, { token: other.token });
    expect(left.status, left.text).toBeLessThan(300);
    expect((await use()).status).toBe(401);
  });
});

describe('a person who left the org', () => {
  it('can be provisioned again with the externalId the identity provider keeps for them', async () => {
    const person = await newUser(app, 'returner');
    await grantMembership(app, orgId, person.userId, 'member');
    const externalId = `okta-${person.userId}`;
    const linked = await scim('PATCH', `/Users/${person.userId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'externalId', value: externalId }],
    });
    expect(linked.status, linked.text).toBe(200);
    const left = await app.request('POST', `/api/orgs/${orgId}/leave`, { token: person.token });
    expect(left.status, left.text).toBeLessThan(300);

    const lookup = await scim('GET', `/Users?filter=${encodeURIComponent(`externalId eq "${externalId}"`)}`);
    expect(lookup.body.totalResults).toBe(0);
    const again = await scim('POST', '/Users', { schemas: [USER], userName: person.email, externalId });
    expect(again.status, again.text).toBe(201);
    expect(again.body.externalId).toBe(externalId);
  });
});

describe('a group change racing a console change', () => {
  it('taking someone out of Admins after an owner already made them a member leaves them a member', async () => {
    const person = await newUser(app, 'moved');
    await grantMembership(app, orgId, person.userId, 'admin');
    const db = app.runtime.platform.db;
    // An owner's change in the console, holding the org's row lock while the IdP's PATCH arrives.
    const held = await holdOrgLock(db, orgId, (tx) =>
      tx
        .updateTable('memberships')
        .set({ role: 'member' })
        .where('org_id', '=', orgId)
        .where('user_id', '=', person.userId)
        .execute(),
    );
    const patching = scim('PATCH', '/Groups/admin', {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${person.userId}"]` }],
    });
    await held.release();
    const res = await patching;
    expect(res.status, res.text).toBe(200);
    expect(await role(person.userId)).toBe('member');
  });
});
