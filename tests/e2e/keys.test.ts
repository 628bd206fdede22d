import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { keysRoutes } from '../../functions/keys/routes.js';
import { orgsRoutes } from '../../functions/orgs/routes.js';
import { OutboxRelay } from '../../shared/bus/outbox.js';
import { type Role, roles } from '../../shared/http/route.js';
import { generateApiKey } from '../../shared/keys/format.js';
import { ApiKeyStore } from '../../shared/keys/store.js';
import { sessionTokenHash } from '../../shared/sessions/model.js';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { issueApiKey } from '../helpers/keys.js';
import { createOrg, grantMembership, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

const clock = new FakeClock('2026-03-02T09:00:00Z');
let app: TestApp;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let orgId: string;
let otherOrgId: string;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
  orgId = (await createOrg(app, owner)).id;
  [admin, member, viewer, outsider] = await Promise.all([
    newUser(app, 'admin'),
    newUser(app, 'member'),
    newUser(app, 'viewer'),
    newUser(app, 'outsider'),
  ]);
  await grantMembership(app, orgId, admin.userId, 'admin');
  await grantMembership(app, orgId, member.userId, 'member');
  await grantMembership(app, orgId, viewer.userId, 'viewer');
  otherOrgId = (await createOrg(app, outsider)).id;
});
afterAll(async () => {
  await app?.stop();
});
beforeEach(() => {
  vi.restoreAllMocks();
});

/** Moves time; the whole file stays well inside the org's 30-minute idle fallback. */
function advance(ms: number) {
  clock.advance(ms);
}

async function createKey(token: string, body: Record<string, unknown>, inOrg = orgId) {
  return app.request('POST', `/api/orgs/${inOrg}/keys`, { token, body });
}

async function verify(key: unknown) {
  return app.request('POST', '/api/keys/verify', { body: { key } });
}

describe('the API key life cycle', () => {
  it('creates a key shown once, calls an org route with it, lists it without secrets, revokes it, and the next call fails', async () => {
    const created = await createKey(admin.token, { name: 'CI deploys', role: 'member' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'CI deploys',
      role: 'member',
      prefix: created.body.key.slice(0, 14),
      key: expect.stringMatching(/^sf_live_[0-9A-Za-z]{39}$/),
      createdAt: clock.now().toISOString(),
      expiresAt: null,
    });
    const { key, id } = created.body;

    const members = await app.request('GET', `/api/orgs/${orgId}/members`, { token: key });
    expect(members.status).toBe(200);
    expect(members.body.members).toContainEqual(
      expect.objectContaining({ userId: owner.userId, role: 'owner' }),
    );

    const listed = await app.request('GET', `/api/orgs/${orgId}/keys`, { token: admin.token });
    expect(listed.status).toBe(200);
    expect(listed.body.keys).toContainEqual({
      id,
      name: 'CI deploys',
      role: 'member',
      prefix: created.body.prefix,
      createdAt: clock.now().toISOString(),
      expiresAt: null,
      lastUsedAt: clock.now().toISOString(),
    });
    expect(listed.text).not.toContain(key.slice(14));

    expect(await verify(key)).toMatchObject({
      status: 200,
      body: { valid: true, orgId, keyId: id, role: 'member' },
    });

    const revoked = await app.request('DELETE', `/api/orgs/${orgId}/keys/${id}`, { token: admin.token });
    expect(revoked.status).toBe(204);
    const after = await app.request('GET', `/api/orgs/${orgId}/members`, { token: key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
    expect((await verify(key)).body).toEqual({ valid: false });
    const relisted = await app.request('GET', `/api/orgs/${orgId}/keys`, { token: admin.token });
    expect(relisted.body.keys.map((k: { id: string }) => k.id)).not.toContain(id);
  });

  it('audits api_key.created and api_key.deleted with the display prefix, never the key, and the chain verifies', async () => {
    const created = await createKey(owner.token, { name: 'audited', role: 'viewer' });
    await app.request('DELETE', `/api/orgs/${orgId}/keys/${created.body.id}`, { token: owner.token });
    const events = await app.request('GET', `/api/orgs/${orgId}/audit`, { token: owner.token });
    expect(events.status).toBe(200);
    const mine = events.body.events.filter((e: { targetId: string }) => e.targetId === created.body.id);
    expect(mine.map((e: { action: string }) => e.action).sort()).toEqual([
      'api_key.created',
      'api_key.deleted',
    ]);
    for (const event of mine) {
      expect(event).toMatchObject({ actorType: 'user', actorId: owner.userId, targetType: 'api_key' });
      expect(event.metadata.prefix).toBe(created.body.prefix);
    }
    expect(events.text).not.toContain(created.body.key.slice(14));
    const chain = await app.request('GET', `/api/orgs/${orgId}/audit/verify`, { token: owner.token });
    expect(chain.body.valid).toBe(true);
  });

  it('records last use at most once a minute', async () => {
    const key = (await createKey(admin.token, { name: 'polled', role: 'viewer' })).body;
    const lastUsed = async () =>
      (await app.request('GET', `/api/orgs/${orgId}/keys`, { token: admin.token })).body.keys.find(
        (k: { id: string }) => k.id === key.id,
      ).lastUsedAt;
    expect(await lastUsed()).toBeNull();
    const first = clock.now().toISOString();
    await app.request('GET', `/api/orgs/${orgId}/members`, { token: key.key });
    expect(await lastUsed()).toBe(first);
    advance(30 * SECOND_MS);
    await app.request('GET', `/api/orgs/${orgId}/members`, { token: key.key });
    expect(await lastUsed()).toBe(first);
    advance(30 * SECOND_MS);
    await verify(key.key);
    expect(await lastUsed()).toBe(clock.now().toISOString());
  });
});

describe('creating keys', () => {
  it.each([
    ['a missing name', { role: 'viewer' }],
    ['a blank name', { name: '   ', role: 'viewer' }],
    ['a 101-character name', { name: 'x'.repeat(101), role: 'viewer' }],
    ['an unknown role', { name: 'x', role: 'superuser' }],
    ['a missing role', { name: 'x' }],
    ['an extra field', { name: 'x', role: 'viewer', key: 'sf_live_chosen' }],
    ['an expiry that is not a time', { name: 'x', role: 'viewer', expiresAt: 'tomorrow' }],
    ['an expiry without an offset', { name: 'x', role: 'viewer', expiresAt: '2030-01-01T00:00:00' }],
    ['an expiry in the past', { name: 'x', role: 'viewer', expiresAt: '2020-01-01T00:00:00Z' }],
  ])('rejects %s with 400 VALIDATION_FAILED', async (_label, body) => {
    const response = await createKey(admin.token, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('keeps an optional expiry and answers it in UTC', async () => {
    const response = await createKey(admin.token, {
      name: 'temp',
      role: 'viewer',
      expiresAt: '2026-03-03T10:00:00+01:00',
    });
    expect(response.status).toBe(201);
    expect(response.body.expiresAt).toBe('2026-03-03T09:00:00.000Z');
  });

  it('refuses a key with a role above the caller with 403 INSUFFICIENT_ROLE', async () => {
    const response = await createKey(admin.token, { name: 'escalate', role: 'owner' });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('INSUFFICIENT_ROLE');
  });

  it('needs step-up for an owner key: 403 STEP_UP_REQUIRED before, 201 inside the window, 403 after it', async () => {
    const boss = await newUser(app, 'boss');
    await grantMembership(app, orgId, boss.userId, 'owner');
    const before = await createKey(boss.token, { name: 'root', role: 'owner' });
    expect(before.status).toBe(403);
    expect(before.body.error.code).toBe('STEP_UP_REQUIRED');

    // The sudo window as POST /api/sessions/step-up leaves it (that route has its own tests).
    await app.runtime.platform.db
      .updateTable('sessions')
      .set({ sudo_until: new Date(clock.now().getTime() + 10 * MINUTE_MS) })
      .where('token_hash', '=', sessionTokenHash(boss.token))
      .execute();
    const inside = await createKey(boss.token, { name: 'root', role: 'owner' });
    expect(inside.status).toBe(201);
    expect(inside.body.role).toBe('owner');

    advance(10 * MINUTE_MS);
    const late = await createKey(boss.token, { name: 'root again', role: 'owner' });
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('STEP_UP_REQUIRED');
    // Non-owner keys never need step-up.
    expect((await createKey(boss.token, { name: 'ops', role: 'admin' })).status).toBe(201);
  });

  it('never lets an API key create or revoke keys, even an owner key of the same org (401)', async () => {
    const key = await issueApiKey(app, orgId, 'owner');
    const create = await createKey(key, { name: 'child', role: 'viewer' });
    expect(create.status).toBe(401);
    expect(create.body.error.code).toBe('UNAUTHENTICATED');
    const victim = (await createKey(admin.token, { name: 'victim', role: 'viewer' })).body;
    const remove = await app.request('DELETE', `/api/orgs/${orgId}/keys/${victim.id}`, { token: key });
    expect(remove.status).toBe(401);
    expect((await verify(victim.key)).body.valid).toBe(true);
  });
});

describe('revoking keys', () => {
  it("answers 404 NOT_FOUND for another org's key, an unknown id, a malformed id and an already revoked key", async () => {
    const foreign = (await createKey(outsider.token, { name: 'theirs', role: 'viewer' }, otherOrgId)).body;
    const revokedOnce = (await createKey(admin.token, { name: 'once', role: 'viewer' })).body;
    await app.request('DELETE', `/api/orgs/${orgId}/keys/${revokedOnce.id}`, { token: admin.token });
    for (const id of [foreign.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid', revokedOnce.id]) {
      const response = await app.request('DELETE', `/api/orgs/${orgId}/keys/${id}`, { token: admin.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect((await verify(foreign.key)).body).toMatchObject({ valid: true, orgId: otherOrgId });
  });
});

describe('API keys on org routes', () => {
  it('acts with the key’s own role: a viewer key reads members but is refused admin routes with 403 INSUFFICIENT_ROLE', async () => {
    const key = await issueApiKey(app, orgId, 'viewer');
    expect((await app.request('GET', `/api/orgs/${orgId}/members`, { token: key })).status).toBe(200);
    const keys = await app.request('GET', `/api/orgs/${orgId}/keys`, { token: key });
    expect(keys.status).toBe(403);
    expect(keys.body.error.code).toBe('INSUFFICIENT_ROLE');
    const adminKey = await issueApiKey(app, orgId, 'admin');
    expect((await app.request('GET', `/api/orgs/${orgId}/keys`, { token: adminKey })).status).toBe(200);
  });

  it('answers 404 NOT_FOUND to a key of another org on every org route that admits keys, and 401 where keys are refused', async () => {
    const foreignKey = await issueApiKey(app, otherOrgId, 'owner');
    // From the route tables themselves, so a new org route is covered without editing this test.
    // Routes with a body validate it before authenticating; the org matrix covers those.
    const orgRoutes = [...orgsRoutes, ...keysRoutes].filter(
      (r) => r.auth.kind === 'org' && !r.body && r.path.includes(':orgId'),
    );
    expect(orgRoutes.length).toBeGreaterThanOrEqual(3);
    for (const route of orgRoutes) {
      const path = route.path
        .replace(':orgId', orgId)
        .replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000000');
      const response = await app.request(route.method, path, { token: foreignKey });
      const admitsKeys = route.auth.kind === 'org' && route.auth.apiKeys !== false;
      expect(response.status, `${route.method} ${route.path}`).toBe(admitsKeys ? 404 : 401);
      expect(response.body.error.code).toBe(admitsKeys ? 'NOT_FOUND' : 'UNAUTHENTICATED');
    }
  });

  it.each([
    ['GET', '/api/sessions'],
    ['GET', '/api/sessions/current'],
    ['GET', '/api/orgs'],
    ['POST', '/api/sessions/revoke-all'],
    ['GET', '/api/accounts/activity'],
  ])('refuses a valid key on the user route %s %s with 401 UNAUTHENTICATED', async (method, path) => {
    const key = await issueApiKey(app, orgId, 'owner');
    const response = await app.request(method, path, { token: key });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('fails an expired key from its expiry instant on', async () => {
    const key = await issueApiKey(app, orgId, 'viewer', new Date(clock.now().getTime() + 5 * MINUTE_MS));
    advance(5 * MINUTE_MS - 1);
    expect((await app.request('GET', `/api/orgs/${orgId}/members`, { token: key })).status).toBe(200);
    advance(1);
    const late = await app.request('GET', `/api/orgs/${orgId}/members`, { token: key });
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('UNAUTHENTICATED');
    expect((await verify(key)).body).toEqual({ valid: false });
  });

  it('refuses malformed and unknown keys with 401 UNAUTHENTICATED, the malformed ones without a lookup', async () => {
    const lookup = vi.spyOn(ApiKeyStore.prototype, 'findByHash');
    const good = generateApiKey();
    const flipped = `${good.slice(0, 20)}${good[20] === 'a' ? 'b' : 'a'}${good.slice(21)}`;
    for (const bad of [flipped, `${good}0`, 'sf_live_', `sf_live_${'A'.repeat(39)}`]) {
      const response = await app.request('GET', `/api/orgs/${orgId}/members`, { token: bad });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHENTICATED');
    }
    expect(lookup).not.toHaveBeenCalled();
    const unknown = await app.request('GET', `/api/orgs/${orgId}/members`, { token: good });
    expect(unknown.status).toBe(401);
    expect(lookup).toHaveBeenCalledTimes(1);
  });
});

describe('POST /api/keys/verify', () => {
  it('answers valid:false for a session token, with no database call', async () => {
    const lookup = vi.spyOn(ApiKeyStore.prototype, 'findByHash');
    const response = await verify(owner.token);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ valid: false });
    expect(lookup).not.toHaveBeenCalled();
  });

  it.each([
    ['an empty string', ''],
    ['the bare prefix', 'sf_live_'],
    ['a key with a wrong checksum', 'sf_live_000000000000000000000000000000000000000000'.slice(0, 47)],
    ['a megabyte-long string', `sf_live_${'A'.repeat(1_000_000)}`],
    ['a key with a test prefix', `sf_test_${'A'.repeat(39)}`],
  ])('answers valid:false for %s without a lookup', async (_label, key) => {
    const lookup = vi.spyOn(ApiKeyStore.prototype, 'findByHash');
    const response = await verify(key);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ valid: false });
    expect(lookup).not.toHaveBeenCalled();
  });

  it.each([
    ['a number', { key: 42 }],
    ['no key', {}],
    ['an extra field', { key: 'sf_live_x', orgId: 'x' }],
  ])('rejects a body with %s with 400 VALIDATION_FAILED', async (_label, body) => {
    const response = await app.request('POST', '/api/keys/verify', { body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('rejects a non-JSON body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await app.request('POST', '/api/keys/verify', {
      raw: 'sf_live_x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('skips the outbox drain after a verification, which never enqueues, but not after other POSTs', async () => {
    const drain = vi.spyOn(OutboxRelay.prototype, 'drain');
    expect((await verify(generateApiKey())).status).toBe(200);
    expect(drain).not.toHaveBeenCalled();
    expect((await createKey(admin.token, { name: 'drained', role: 'viewer' })).status).toBe(201);
    expect(drain).toHaveBeenCalled();
  });

  it('is in the OpenAPI document with the other key routes', async () => {
    const doc = await app.request('GET', '/api/openapi.json');
    const paths = Object.keys(doc.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/keys/verify', '/api/orgs/{orgId}/keys', '/api/orgs/{orgId}/keys/{id}']),
    );
  });
});

/**
 * The key routes' role × caller matrix from one table: each route with its minimum role, whether
 * keys may call it, and a request that succeeds for anyone allowed.
 */
describe('key routes: role × caller matrix', () => {
  interface Row {
    method: string;
    path: string;
    minRole: Role;
    apiKeys: boolean;
    success: number;
    request: () => Promise<{ path: string; body?: unknown }>;
  }
  const table: Row[] = [
    {
      method: 'POST',
      path: '/api/orgs/:orgId/keys',
      minRole: 'admin',
      apiKeys: false,
      success: 201,
      request: async () => ({ path: `/api/orgs/${orgId}/keys`, body: { name: 'matrix', role: 'viewer' } }),
    },
    {
      method: 'GET',
      path: '/api/orgs/:orgId/keys',
      minRole: 'admin',
      apiKeys: true,
      success: 200,
      request: async () => ({ path: `/api/orgs/${orgId}/keys` }),
    },
    {
      method: 'DELETE',
      path: '/api/orgs/:orgId/keys/:id',
      minRole: 'admin',
      apiKeys: false,
      success: 204,
      request: async () => {
        const created = await createKey(owner.token, { name: 'doomed', role: 'viewer' });
        return { path: `/api/orgs/${orgId}/keys/${created.body.id}` };
      },
    },
  ];
  type Caller = Role | 'nonMember' | 'anonymous' | 'apiKeyOfOtherOrg' | 'adminKeyOfThisOrg';
  const callers: Caller[] = [...roles, 'nonMember', 'anonymous', 'apiKeyOfOtherOrg', 'adminKeyOfThisOrg'];

  function expected(row: Row, caller: Caller): { status: number; code?: string } {
    if (caller === 'anonymous') return { status: 401, code: 'UNAUTHENTICATED' };
    if (caller === 'nonMember') return { status: 404, code: 'NOT_FOUND' };
    if (caller === 'apiKeyOfOtherOrg' || caller === 'adminKeyOfThisOrg') {
      if (!row.apiKeys) return { status: 401, code: 'UNAUTHENTICATED' };
      return caller === 'apiKeyOfOtherOrg' ? { status: 404, code: 'NOT_FOUND' } : { status: row.success };
    }
    if (roles.indexOf(caller) < roles.indexOf(row.minRole)) return { status: 403, code: 'INSUFFICIENT_ROLE' };
    return { status: row.success };
  }

  it('covers every route of the keys unit with the auth each declares', () => {
    const routes = keysRoutes.filter((r) => r.auth.kind === 'org');
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      table.map((r) => `${r.method} ${r.path}`).sort(),
    );
    for (const route of routes) {
      const row = table.find((r) => r.method === route.method && r.path === route.path);
      expect(route.auth).toMatchObject({ kind: 'org', minRole: row?.minRole });
      expect(route.auth.kind === 'org' && route.auth.apiKeys !== false).toBe(row?.apiKeys);
    }
  });

  for (const row of table) {
    for (const caller of callers) {
      const want = expected(row, caller);
      it(`${row.method} ${row.path} as ${caller} answers ${want.status}${want.code ? ` ${want.code}` : ''}`, async () => {
        const credential: Record<Caller, () => Promise<string | undefined>> = {
          viewer: async () => viewer.token,
          member: async () => member.token,
          admin: async () => admin.token,
          owner: async () => owner.token,
          nonMember: async () => outsider.token,
          anonymous: async () => undefined,
          apiKeyOfOtherOrg: () => issueApiKey(app, otherOrgId, 'owner'),
          adminKeyOfThisOrg: () => issueApiKey(app, orgId, 'admin'),
        };
        const token = await credential[caller]();
        const request = await row.request();
        const response = await app.request(row.method, request.path, {
          ...(token ? { token } : {}),
          ...(request.body !== undefined ? { body: request.body } : {}),
        });
        expect(response.status, response.text).toBe(want.status);
        if (want.code) expect(response.body.error.code).toBe(want.code);
      });
    }
  }
});
