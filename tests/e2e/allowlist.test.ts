import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEntries } from '../../shared/allowlist/entries.js';
import { encodeNetworks } from '../../shared/allowlist/networks.js';
import type { Topic } from '../../shared/bus/topics.js';
import { FakeClock, SECOND_MS } from '../../shared/time/clock.js';
import { from, stepUp } from '../helpers/allowlist.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, grantMembership, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { rawRequest } from '../helpers/raw-request.js';

const OFFICE = '203.0.113.10';
const OUTSIDE = '198.51.100.7';

const clock = new FakeClock('2026-05-04T08:00:00Z');
let app: TestApp;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let viewer: TestUser;
let stranger: TestUser;
let orgId: string;
const published: Topic[] = [];

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  const bus = app.runtime.platform.localBus;
  if (bus) {
    const publish = bus.publish.bind(bus);
    bus.publish = (topic, envelope) => {
      published.push(topic);
      return publish(topic, envelope);
    };
  }
  owner = await newUser(app, 'owner');
  admin = await newUser(app, 'admin');
  member = await newUser(app, 'member');
  viewer = await newUser(app, 'viewer');
  stranger = await newUser(app, 'stranger');
  orgId = (await createOrg(app, owner)).id;
  await grantMembership(app, orgId, admin.userId, 'admin');
  await grantMembership(app, orgId, member.userId, 'member');
  await grantMembership(app, orgId, viewer.userId, 'viewer');
});
afterAll(async () => {
  await app?.stop();
});

const allowlistPath = () => `/api/orgs/${orgId}/allowlist`;
const put = (user: TestUser, body: unknown, ip = OFFICE) =>
  app.request('PUT', allowlistPath(), { token: user.token, body, headers: from(ip) });
const members = (user: TestUser, ip: string) =>
  app.request('GET', `/api/orgs/${orgId}/members`, { token: user.token, headers: from(ip) });

describe('reading and changing the list', () => {
  it('shows admins an empty, disabled list before anything is saved', async () => {
    const list = await app.request('GET', allowlistPath(), { token: admin.token, headers: from(OFFICE) });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ enabled: false, entries: [] });
  });

  it('keeps the list from members and viewers (403 INSUFFICIENT_ROLE) and from non-members (404 NOT_FOUND)', async () => {
    for (const user of [member, viewer]) {
      const denied = await app.request('GET', allowlistPath(), { token: user.token });
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe('INSUFFICIENT_ROLE');
    }
    const hidden = await app.request('GET', allowlistPath(), { token: stranger.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('NOT_FOUND');
    const anonymous = await app.request('GET', allowlistPath());
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('needs a step-up to change the list (403 STEP_UP_REQUIRED), and admin+ (403 INSUFFICIENT_ROLE)', async () => {
    const noSudo = await put(admin, { enabled: false, entries: [] });
    expect(noSudo.status).toBe(403);
    expect(noSudo.body.error.code).toBe('STEP_UP_REQUIRED');
    await stepUp(app, member);
    const tooLow = await put(member, { enabled: false, entries: [] });
    expect(tooLow.status).toBe(403);
    expect(tooLow.body.error.code).toBe('INSUFFICIENT_ROLE');
  });

  it.each([
    ['no body fields', {}],
    ['a missing enabled flag', { entries: [] }],
    ['enabled as a string', { enabled: 'yes', entries: [] }],
    ['entries as an object', { enabled: false, entries: {} }],
    ['an entry without a cidr', { enabled: false, entries: [{ label: 'x' }] }],
    ['a cidr as a number', { enabled: false, entries: [{ cidr: 10 }] }],
    ['an unknown entry field', { enabled: false, entries: [{ cidr: '10.0.0.0/8', note: 'x' }] }],
    ['an unknown body field', { enabled: false, entries: [], mode: 'strict' }],
    [
      'a label over 100 characters',
      { enabled: false, entries: [{ cidr: '10.0.0.0/8', label: 'x'.repeat(101) }] },
    ],
    [
      'a label with a control character',
      { enabled: false, entries: [{ cidr: '10.0.0.0/8', label: 'a\u0000b' }] },
    ],
    ['a cidr over 64 characters', { enabled: false, entries: [{ cidr: '1'.repeat(65) }] }],
    ['more than 10,000 entries', { enabled: false, entries: Array(10_001).fill({ cidr: '10.0.0.0/8' }) }],
  ])('rejects %s with 400 VALIDATION_FAILED', async (_label, body) => {
    await stepUp(app, admin);
    const response = await put(admin, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('reports every invalid entry by its index (400 VALIDATION_FAILED) and saves nothing', async () => {
    await stepUp(app, admin);
    const response = await put(admin, {
      enabled: true,
      entries: [
        { cidr: `${OFFICE}/32`, label: 'office' },
        { cidr: 'fe80::1%eth0', label: 'zone' },
        { cidr: '010.1.1.1', label: 'octal?' },
        { cidr: '2001:db8::/32', label: 'ok' },
        { cidr: '10.0.0.0/33', label: 'too long' },
        { cidr: 'garbage', label: '' },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.issues.map((i: { path: string }) => i.path)).toEqual([
      'entries.1.cidr',
      'entries.2.cidr',
      'entries.4.cidr',
      'entries.5.cidr',
    ]);
    const list = await app.request('GET', allowlistPath(), { token: admin.token, headers: from(OFFICE) });
    expect(list.body).toEqual({ enabled: false, entries: [] });
  });

  it("refuses to enable a list without the caller's own address (409 CONFLICT), empty lists included", async () => {
    await stepUp(app, admin);
    const without = await put(admin, {
      enabled: true,
      entries: [{ cidr: '192.0.2.0/24', label: 'elsewhere' }],
    });
    expect(without.status).toBe(409);
    expect(without.body.error.code).toBe('CONFLICT');
    const empty = await put(admin, { enabled: true, entries: [] });
    expect(empty.status).toBe(409);
    expect(empty.body.error.code).toBe('CONFLICT');
    // Saving it disabled is allowed: nothing is enforced yet.
    const disabled = await put(admin, {
      enabled: false,
      entries: [{ cidr: '192.0.2.0/24', label: 'elsewhere' }],
    });
    expect(disabled.status).toBe(200);
  });

  it('enables a list that contains the caller, normalizing host bits and reporting it', async () => {
    await stepUp(app, admin);
    const saved = await put(admin, {
      enabled: true,
      entries: [
        { cidr: '203.0.113.99/24', label: 'office' },
        { cidr: '2001:DB8::/32', label: 'v6 office' },
      ],
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({
      enabled: true,
      entries: [
        { cidr: '203.0.113.0/24', label: 'office' },
        { cidr: '2001:db8::/32', label: 'v6 office' },
      ],
      normalized: [
        { index: 0, from: '203.0.113.99/24', to: '203.0.113.0/24', reason: 'host_bits_cleared' },
        { index: 1, from: '2001:DB8::/32', to: '2001:db8::/32', reason: 'rewritten' },
      ],
    });
    const list = await app.request('GET', allowlistPath(), { token: admin.token, headers: from(OFFICE) });
    expect(list.body).toEqual({ enabled: true, entries: saved.body.entries });
    await app.settle();
    expect(published).toContain('allowlist-changed');
  });

  it('audits the change with the entries before and after, in the org audit log', async () => {
    const audit = await app.request('GET', `/api/orgs/${orgId}/audit?action=ip_allowlist.updated`, {
      token: owner.token,
      headers: from(OFFICE),
    });
    expect(audit.status).toBe(200);
    const [latest, previous] = audit.body.events;
    expect(latest).toMatchObject({
      action: 'ip_allowlist.updated',
      actorId: admin.userId,
      actorType: 'user',
      targetType: 'ip_allowlist',
      targetId: orgId,
      ip: OFFICE,
      metadata: {
        before: [{ cidr: '192.0.2.0/24', label: 'elsewhere' }],
        after: [
          { cidr: '203.0.113.0/24', label: 'office' },
          { cidr: '2001:db8::/32', label: 'v6 office' },
        ],
        enabledBefore: false,
        enabledAfter: true,
      },
    });
    expect(previous.metadata).toMatchObject({
      before: [],
      after: [{ cidr: '192.0.2.0/24', label: 'elsewhere' }],
    });
  });
});

describe('enforcement on org routes', () => {
  it('refuses a request from outside the list with 403 IP_NOT_ALLOWED and serves one from inside', async () => {
    const outside = await members(owner, OUTSIDE);
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('IP_NOT_ALLOWED');
    expect((await members(owner, OFFICE)).status).toBe(200);
    expect((await members(owner, '2001:db8:1::5')).status).toBe(200);
    expect((await members(owner, `::ffff:${OFFICE}`)).status).toBe(200);
  });

  it('refuses before the role check, so a viewer outside learns nothing about its role', async () => {
    const response = await app.request('GET', allowlistPath(), {
      token: viewer.token,
      headers: from(OUTSIDE),
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('IP_NOT_ALLOWED');
  });

  it('answers a non-member 404 NOT_FOUND, not IP_NOT_ALLOWED (the org does not exist for them)', async () => {
    const response = await members(stranger, OUTSIDE);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('uses the address the trusted proxy saw, not a spoofed leftmost X-Forwarded-For entry', async () => {
    const spoofed = await members(owner, `${OFFICE}, ${OUTSIDE}`);
    expect(spoofed.status).toBe(403);
    expect(spoofed.body.error.code).toBe('IP_NOT_ALLOWED');
    expect((await members(owner, `${OUTSIDE}, ${OFFICE}`)).status).toBe(200);
  });

  it('leaves the exempt paths open from anywhere: health, login, accounts, and routes outside orgs', async () => {
    expect((await app.request('GET', '/api/health', { headers: from(OUTSIDE) })).status).toBe(200);
    const login = await app.request('POST', '/api/login', {
      body: { email: owner.email, password: 'wrong password entirely' },
      headers: from(OUTSIDE),
    });
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('INVALID_CREDENTIALS');
    const current = await app.request('GET', '/api/sessions/current', {
      token: owner.token,
      headers: from(OUTSIDE),
    });
    expect(current.status).toBe(200);
    const orgs = await app.request('GET', '/api/orgs', { token: owner.token, headers: from(OUTSIDE) });
    expect(orgs.status).toBe(200);
  });

  it.each([
    ['dot segments', (id: string) => `/api/health/../orgs/${id}/members`],
    ['encoded dot segments', (id: string) => `/api/health/%2e%2e/orgs/${id}/members`],
    ['upper-case encoded dots', (id: string) => `/api/health/%2E%2E/orgs/${id}/members`],
    ['a login prefix', (id: string) => `/api/login/../orgs/${id}/members`],
    ['an accounts prefix and a trailing slash', (id: string) => `/api/accounts/../orgs/${id}/members/`],
    ['a doubled traversal', (id: string) => `/api/accounts/x/../../orgs/${id}/allowlist`],
  ])('does not treat %s under an exempt path as exempt', async (_label, path) => {
    const response = await rawRequest(app.url, 'GET', path(orgId), {
      authorization: `Bearer ${owner.token}`,
      ...from(OUTSIDE),
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('IP_NOT_ALLOWED');
  });

  it('lifts enforcement at once on the instance that disabled the list', async () => {
    await stepUp(app, admin);
    const off = await put(admin, { enabled: false, entries: [{ cidr: '203.0.113.0/24', label: 'office' }] });
    expect(off.status).toBe(200);
    expect((await members(owner, OUTSIDE)).status).toBe(200);
    const on = await put(admin, { enabled: true, entries: [{ cidr: '203.0.113.0/24', label: 'office' }] });
    expect(on.status).toBe(200);
    expect((await members(owner, OUTSIDE)).status).toBe(403);
  });

  it('keeps applying the list last read, and counts the failures, while the list cannot be read', async () => {
    // (An org never read on this instance fails open: shared/allowlist/gate.test.ts.)
    const { db, metrics } = app.runtime.platform;
    const before = metrics.value('allowlist_store_errors');
    clock.advance(61 * SECOND_MS); // past the cache TTL, so the next request reads the store
    await db.schema.alterTable('ip_allowlists').renameTo('ip_allowlists_unavailable').execute();
    try {
      // Slowing or breaking the store is no way around the list: the outside address stays out.
      expect((await members(owner, OUTSIDE)).status).toBe(403);
      expect((await members(owner, OFFICE)).status).toBe(200);
      expect(metrics.value('allowlist_store_errors')).toBe(before + 2);
    } finally {
      await db.schema.alterTable('ip_allowlists_unavailable').renameTo('ip_allowlists').execute();
    }
    expect((await members(owner, OUTSIDE)).status).toBe(403);
  });
});

describe('asking whether an address is allowed', () => {
  const check = (user: TestUser, body: unknown, ip = OFFICE) =>
    app.request('POST', '/api/allowlist/check', { token: user.token, body, headers: from(ip) });
  const checkInOrg = (user: TestUser, body: unknown, ip = OFFICE) =>
    app.request('POST', `/api/orgs/${orgId}/allowlist/check`, { token: user.token, body, headers: from(ip) });

  it('answers members with the decision and the entry that matched, on both paths', async () => {
    expect((await check(member, { orgId, ip: '203.0.113.200' })).body).toEqual({
      allowed: true,
      matched: '203.0.113.0/24',
    });
    expect((await check(member, { orgId, ip: `::ffff:203.0.113.1` })).body).toEqual({
      allowed: true,
      matched: '203.0.113.0/24',
    });
    expect((await check(member, { orgId, ip: OUTSIDE })).body).toEqual({ allowed: false, matched: null });
    const inOrg = await checkInOrg(member, { ip: '203.0.113.200' });
    expect(inOrg.status).toBe(200);
    expect(inOrg.body).toEqual({ allowed: true, matched: '203.0.113.0/24' });
  });

  it.each([
    ['a zone id', 'fe80::1%eth0'],
    ['a leading zero', '010.1.1.1'],
    ['a CIDR instead of an address', '203.0.113.0/24'],
    ['garbage', 'somewhere'],
  ])('rejects %s as the address with 400 VALIDATION_FAILED on ip', async (_label, ip) => {
    for (const response of [await check(member, { orgId, ip }), await checkInOrg(member, { ip })]) {
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.issues).toEqual([{ path: 'ip', message: expect.any(String) }]);
    }
  });

  it('rejects a body without orgId or ip with 400 VALIDATION_FAILED', async () => {
    for (const body of [{ ip: OFFICE }, { orgId }, { orgId, ip: OFFICE, extra: 1 }]) {
      const response = await check(member, body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('answers non-members and unknown or malformed orgs 404 NOT_FOUND, viewers 403, strangers to the network 403', async () => {
    for (const body of [
      { orgId, ip: OFFICE },
      { orgId: '00000000-0000-4000-8000-000000000000', ip: OFFICE },
      { orgId: 'not-a-uuid', ip: OFFICE },
    ]) {
      const response = await check(stranger, body);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    for (const response of [
      await check(viewer, { orgId, ip: OFFICE }),
      await checkInOrg(viewer, { ip: OFFICE }),
    ]) {
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
    }
    for (const response of [
      await check(member, { orgId, ip: OFFICE }, OUTSIDE),
      await checkInOrg(member, { ip: OFFICE }, OUTSIDE),
    ]) {
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('IP_NOT_ALLOWED');
    }
    const anonymous = await app.request('POST', '/api/allowlist/check', { body: { orgId, ip: OFFICE } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
  });
});

describe('with TRUSTED_PROXY_HOPS=0 (no proxy in front)', () => {
  const directClock = new FakeClock('2026-05-04T08:00:00Z');
  let direct: TestApp;
  let user: TestUser;
  let directOrg: string;

  beforeAll(async () => {
    direct = await startTestApp({ clock: directClock, env: { TRUSTED_PROXY_HOPS: '0' } });
    user = await newUser(direct, 'direct');
    directOrg = (await createOrg(direct, user)).id;
  });
  afterAll(async () => {
    await direct?.stop();
  });

  it('judges the socket address and ignores any X-Forwarded-For the client sends', async () => {
    await stepUp(direct, user);
    const path = `/api/orgs/${directOrg}/allowlist`;
    // The caller is 127.0.0.1 whatever the header claims, so a list of the claimed address would lock it out.
    const claimed = await direct.request('PUT', path, {
      token: user.token,
      body: { enabled: true, entries: [{ cidr: '203.0.113.0/24', label: 'claimed' }] },
      headers: from('203.0.113.10'),
    });
    expect(claimed.status).toBe(409);
    expect(claimed.body.error.code).toBe('CONFLICT');
    const saved = await direct.request('PUT', path, {
      token: user.token,
      body: { enabled: true, entries: [{ cidr: '127.0.0.1', label: 'this machine' }] },
      headers: from('198.51.100.7'),
    });
    expect(saved.status).toBe(200);
    const spoofed = await direct.request('GET', `/api/orgs/${directOrg}/members`, {
      token: user.token,
      headers: from('198.51.100.7'),
    });
    expect(spoofed.status).toBe(200);

    // A list without the socket address (written behind the API's back, as if by another admin
    // elsewhere) refuses the caller however trusted the address it claims.
    const claimedList = checkEntries([{ cidr: '203.0.113.0/24', label: 'claimed' }]);
    if (!claimedList.ok) throw new Error('bad test entry');
    await direct.runtime.platform.db
      .updateTable('ip_allowlists')
      .set({ entries: JSON.stringify(claimedList.entries), networks: encodeNetworks(claimedList.networks) })
      .where('org_id', '=', directOrg)
      .execute();
    directClock.advance(61 * SECOND_MS);
    const claimedInside = await direct.request('GET', `/api/orgs/${directOrg}/members`, {
      token: user.token,
      headers: from('203.0.113.10'),
    });
    expect(claimedInside.status).toBe(403);
    expect(claimedInside.body.error.code).toBe('IP_NOT_ALLOWED');
  });
});
