import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, grantMembership, newUser, orgTestEnv, type TestUser } from '../helpers/orgs.js';

const clock = new FakeClock('2026-03-02T09:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
});
afterAll(async () => {
  await app?.stop();
});

describe('creating and listing orgs', () => {
  it('makes the creator the owner and lists the org with that role', async () => {
    const created = await app.request('POST', '/api/orgs', {
      token: owner.token,
      body: { name: 'Acme Ltd', slug: 'acme' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: 'Acme Ltd', slug: 'acme' });

    const mine = await app.request('GET', '/api/orgs', { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body.orgs).toContainEqual({
      id: created.body.id,
      name: 'Acme Ltd',
      slug: 'acme',
      role: 'owner',
      expiresAt: null,
    });

    const members = await app.request('GET', `/api/orgs/${created.body.id}/members`, { token: owner.token });
    expect(members.status).toBe(200);
    expect(members.body).toEqual({
      members: [{ userId: owner.userId, email: owner.email, role: 'owner', expiresAt: null }],
    });
  });

  it('refuses a slug that is already taken with 409 CONFLICT', async () => {
    await createOrg(app, owner, 'taken-slug');
    const again = await app.request('POST', '/api/orgs', {
      token: owner.token,
      body: { name: 'Other', slug: 'taken-slug' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
  });

  it.each([
    ['a missing slug', { name: 'x' }],
    ['a missing name', { slug: 'valid-slug' }],
    ['an extra field', { name: 'x', slug: 'valid-slug', plan: 'free' }],
    ['a number as name', { name: 5, slug: 'valid-slug' }],
    ['an upper-case slug', { name: 'x', slug: 'Acme' }],
    ['a two-letter slug', { name: 'x', slug: 'ab' }],
    ['a slug ending in a hyphen', { name: 'x', slug: 'acme-' }],
    ['a blank name', { name: '   ', slug: 'valid-slug' }],
  ])('rejects %s with 400 VALIDATION_FAILED', async (_label, body) => {
    const response = await app.request('POST', '/api/orgs', { token: owner.token, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('needs a session for creating and listing orgs', async () => {
    const create = await app.request('POST', '/api/orgs', { body: { name: 'x', slug: 'no-session' } });
    expect(create.status).toBe(401);
    expect(create.body.error.code).toBe('UNAUTHENTICATED');
    const list = await app.request('GET', '/api/orgs');
    expect(list.status).toBe(401);
    expect(list.body.error.code).toBe('UNAUTHENTICATED');
  });
});

describe('org membership on every request', () => {
  it('answers 404 NOT_FOUND to a non-member, an unknown org id and a malformed org id', async () => {
    const org = await createOrg(app, owner);
    const stranger = await newUser(app, 'stranger');
    for (const orgId of [org.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await app.request('GET', `/api/orgs/${orgId}/members`, { token: stranger.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 403 INSUFFICIENT_ROLE on the next request once the membership expired', async () => {
    const org = await createOrg(app, owner);
    const temp = await newUser(app, 'temp');
    await grantMembership(
      app,
      org.id,
      temp.userId,
      'viewer',
      new Date(clock.now().getTime() + 10 * MINUTE_MS),
    );

    const before = await app.request('GET', `/api/orgs/${org.id}/members`, { token: temp.token });
    expect(before.status).toBe(200);

    clock.advance(10 * MINUTE_MS);
    const after = await app.request('GET', `/api/orgs/${org.id}/members`, { token: temp.token });
    expect(after.status).toBe(403);
    expect(after.body.error).toMatchObject({
      code: 'INSUFFICIENT_ROLE',
      message: expect.stringMatching(/expired/),
    });
    const listed = await app.request('GET', '/api/orgs', { token: temp.token });
    expect(listed.body.orgs.map((o: { id: string }) => o.id)).not.toContain(org.id);
  });

  it("ends a session idle longer than the org's 30-minute fallback, and keeps an active one", async () => {
    const org = await createOrg(app, owner);
    const busy = await newUser(app, 'busy');
    const idle = await newUser(app, 'idle');
    await grantMembership(app, org.id, busy.userId, 'member');
    await grantMembership(app, org.id, idle.userId, 'member');

    for (let step = 0; step < 3; step++) {
      clock.advance(20 * MINUTE_MS);
      const response = await app.request('GET', `/api/orgs/${org.id}/members`, { token: busy.token });
      expect(response.status).toBe(200);
    }
    const stale = await app.request('GET', `/api/orgs/${org.id}/members`, { token: idle.token });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('UNAUTHENTICATED');
    // Its reach into the org ended, so activity elsewhere cannot bring it back into the org; the
    // account itself is the person's, and the org's policy does not sign them out of it.
    const elsewhere = await app.request('GET', '/api/sessions/current', { token: idle.token });
    expect(elsewhere.status).toBe(200);
    const again = await app.request('GET', `/api/orgs/${org.id}/members`, { token: idle.token });
    expect([again.status, again.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it("refuses a session older than the org's absolute timeout with 401 UNAUTHENTICATED", async () => {
    const org = await createOrg(app, owner);
    const member = await newUser(app, 'long');
    await grantMembership(app, org.id, member.userId, 'member');
    await app.runtime.platform.db
      .updateTable('orgs')
      .set({ absolute_timeout_hours: 1, idle_timeout_minutes: 1440 })
      .where('id', '=', org.id)
      .execute();
    clock.advance(30 * MINUTE_MS);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: member.token })).status).toBe(
      200,
    );
    clock.advance(31 * MINUTE_MS);
    const late = await app.request('GET', `/api/orgs/${org.id}/members`, { token: member.token });
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('UNAUTHENTICATED');
    expect((await app.request('GET', '/api/sessions/current', { token: member.token })).status).toBe(200);
  });

  it("still counts the org's absolute timeout from the login after step-up replaced the token", async () => {
    const org = await createOrg(app, owner);
    const member = await newUser(app, 'stepped');
    await grantMembership(app, org.id, member.userId, 'member');
    await app.runtime.platform.db
      .updateTable('orgs')
      .set({ absolute_timeout_hours: 1, idle_timeout_minutes: 1440 })
      .where('id', '=', org.id)
      .execute();
    clock.advance(50 * MINUTE_MS);
    const stepped = await app.request('POST', '/api/sessions/step-up', {
      token: member.token,
      body: { password: member.password },
    });
    expect(stepped.status, stepped.text).toBe(200);
    clock.advance(11 * MINUTE_MS);
    const late = await app.request('GET', `/api/orgs/${org.id}/members`, { token: stepped.body.token });
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('lets an enterprise org without its own idle timeout keep sessions for 24 hours', async () => {
    const org = await createOrg(app, owner);
    const member = await newUser(app, 'ent');
    await grantMembership(app, org.id, member.userId, 'viewer');
    await app.runtime.platform.db
      .updateTable('orgs')
      .set({ enterprise: true })
      .where('id', '=', org.id)
      .execute();
    clock.advance(23 * 60 * MINUTE_MS);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: member.token })).status).toBe(
      200,
    );
    clock.advance(DAY_MS);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: member.token })).status).toBe(
      401,
    );
  });
});

describe('contract', () => {
  it('documents every orgs route in the OpenAPI document', async () => {
    const doc = await app.request('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths).join(' ');
    for (const fragment of ['/api/orgs', '/invitations/accept', '/members', '/policy', '/sessions']) {
      expect(paths).toContain(fragment);
    }
  });

  it("documents the replacement token in the invitation acceptance's answer", async () => {
    const doc = await app.request('GET', '/api/openapi.json');
    const answer = doc.body.paths['/api/orgs/invitations/accept'].post.responses['200'];
    const schema = answer.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(['orgId', 'role', 'token', 'session']);
    expect(schema.required).toEqual(expect.arrayContaining(['orgId', 'role', 'token', 'session']));
  });
});
