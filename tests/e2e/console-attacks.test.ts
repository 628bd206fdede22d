import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, expectError, newMember, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

/**
 * Attacks on what the console merge added or began to lean on: leaving an org (two owners at
 * once), the org sessions filters (outsiders, removed members, malformed values), the cookie
 * Origin refusal on the leave route, and the public sign-in providers route.
 */
const APP = 'http://console.example.test';
const cookie = (token: string) => ({ cookie: `__Host-sf_session=${token}` });
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ env: { ...orgTestEnv, APP_URL: APP } });
  owner = await newUser(app, 'owner');
}, 180_000);
afterAll(() => app?.stop());

const owners = async (orgId: string) =>
  app.runtime.platform.db
    .selectFrom('memberships')
    .select('user_id')
    .where('org_id', '=', orgId)
    .where('role', '=', 'owner')
    .execute();

describe('leaving an org', () => {
  it('two permanent owners leaving at once: exactly one goes, the org keeps an owner', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await newUser(app, 'first');
      const org = await createOrg(app, first);
      const second = await newMember(app, org.id, 'owner', 'second');
      const answers = await Promise.all(
        [first, second].map((u) => app.request('POST', `/api/orgs/${org.id}/leave`, { token: u.token })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([204, 409]);
      expect(answers.find((a) => a.status === 409)?.body.error.code).toBe('CONFLICT');
      expect(await owners(org.id)).toHaveLength(1);
    }
  });

  it('an owner leaving while the other owner is removed by an admin: never zero owners', async () => {
    const first = await newUser(app, 'first');
    const org = await createOrg(app, first);
    const second = await newMember(app, org.id, 'owner', 'second');
    const answers = await Promise.all([
      app.request('POST', `/api/orgs/${org.id}/leave`, { token: second.token }),
      app.request('DELETE', `/api/orgs/${org.id}/members/${second.userId}`, { token: first.token }),
      app.request('POST', `/api/orgs/${org.id}/leave`, { token: first.token }),
    ]);
    expect(answers.filter((a) => a.status === 204).length).toBeLessThanOrEqual(1);
    expect((await owners(org.id)).length).toBeGreaterThanOrEqual(1);
  });

  it('a cross-origin page cannot make a signed-in member leave through the cookie', async () => {
    const org = await createOrg(app, owner);
    const member = await newMember(app, org.id, 'member', 'target');
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/leave`, {
        headers: { ...cookie(member.token), origin: 'https://evil.example' },
      }),
      403,
      'ORIGIN_NOT_ALLOWED',
    );
    const still = await app.runtime.platform.db
      .selectFrom('memberships')
      .select('role')
      .where('org_id', '=', org.id)
      .where('user_id', '=', member.userId)
      .execute();
    expect(still).toEqual([{ role: 'member' }]);
    const own = await app.request('POST', `/api/orgs/${org.id}/leave`, {
      headers: { ...cookie(member.token), origin: APP },
    });
    expect(own.status, own.text).toBe(204);
  });
});

describe('the org sessions filters', () => {
  it('outsiders, plain members and removed admins see nothing, whatever the filters', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin', 'admin');
    const member = await newMember(app, org.id, 'member', 'member');
    const otherOwner = await newUser(app, 'other');
    await createOrg(app, otherOwner);
    const query = `?userId=${member.userId}&country=DE&active=true`;
    expect(
      (await app.request('GET', `/api/orgs/${org.id}/sessions${query}`, { token: admin.token })).status,
    ).toBe(200);
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/sessions${query}`, { token: member.token }),
      403,
      'INSUFFICIENT_ROLE',
    );
    const outsider = await app.request('GET', `/api/orgs/${org.id}/sessions${query}`, {
      token: otherOwner.token,
    });
    expect([403, 404]).toContain(outsider.status);
    expect(outsider.body.sessions).toBeUndefined();
    const removed = await app.request('DELETE', `/api/orgs/${org.id}/members/${admin.userId}`, {
      token: owner.token,
    });
    expect(removed.status, removed.text).toBeLessThan(300);
    const after = await app.request('GET', `/api/orgs/${org.id}/sessions${query}`, { token: admin.token });
    expect([401, 403, 404]).toContain(after.status);
    expect(after.body.sessions).toBeUndefined();
  });

  it('refuses malformed, injected and huge filter values with 400', async () => {
    const org = await createOrg(app, owner);
    for (const query of [
      "userId=' or 1=1 --",
      'deviceId=not-a-uuid',
      'country=USA',
      "country=D'",
      'active=yes',
      'limit=100000',
      'limit=-1',
      `cursor=${'A'.repeat(5000)}`,
      'cursor=eyJjcmVhdGVkQXQiOiJ4IiwiaWQiOiIxIn0',
      'orgId=00000000-0000-0000-0000-000000000000',
      `country=${'D'.repeat(100_000)}`,
    ]) {
      const res = await app.request('GET', `/api/orgs/${org.id}/sessions?${query}`, { token: owner.token });
      expect(res.status, `${query.slice(0, 60)}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body?.sessions).toBeUndefined();
    }
  });
});

describe('GET /api/login/providers', () => {
  it('is public, sets no cookie, and says null when Firebase is not configured', async () => {
    const res = await app.request('GET', '/api/login/providers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ firebase: null });
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});
