import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgServices } from '../../shared/orgs/services.js';
import { SessionService } from '../../shared/sessions/service.js';
import { SessionStore } from '../../shared/sessions/store.js';
import { DAY_MS, FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  grantMembership,
  insertSession,
  insertUser,
  login,
  newMember,
  newUser,
  orgAudit,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

const clock = new FakeClock('2026-04-01T08:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
});
afterAll(async () => {
  await app?.stop();
});

async function invite(orgId: string, token: string, body: Record<string, unknown>) {
  const response = await app.request('POST', `/api/orgs/${orgId}/invitations`, { token, body });
  await app.settle();
  return response;
}

describe('invitations', () => {
  it('lets the invited, verified user join with the mailed token, once', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin');
    const email = `Invitee.${Date.now()}@Example.com`;
    const expiresAt = new Date(clock.now().getTime() + 30 * DAY_MS).toISOString();

    const invited = await invite(org.id, admin.token, { email, role: 'member', expiresAt });
    expect(invited.status).toBe(201);
    expect(invited.body).toEqual({
      id: expect.any(String),
      email,
      role: 'member',
      expiresAt,
      invitationExpiresAt: new Date(clock.now().getTime() + 7 * DAY_MS).toISOString(),
    });
    const token = app.tokenFromMail(email, 'invitation');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await app.runtime.platform.db
      .selectFrom('one_time_tokens')
      .select('token_hash')
      .where('subject', '=', invited.body.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash.toString('base64url')).not.toBe(token);

    // The invitee signs up with the same address in another case: normalized emails match.
    const signup = await app.request('POST', '/api/accounts/signup', {
      body: { email: email.toLowerCase(), password: 'a long enough passphrase 42', name: 'Invitee' },
    });
    expect(signup.status).toBe(202);
    await app.settle();
    await app.request('POST', '/api/accounts/verify-email', {
      body: { token: app.tokenFromMail(email.toLowerCase(), 'verify-email') },
    });
    const session = await login(app, email.toLowerCase(), 'a long enough passphrase 42');

    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: session.body.token,
      body: { token },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({
      orgId: org.id,
      role: 'member',
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      session: expect.objectContaining({ id: expect.any(String) }),
    });
    // Joining replaced the session (tests/e2e/privilege-change.test.ts); the new token carries on.
    const joined = accepted.body.token as string;

    const members = await app.request('GET', `/api/orgs/${org.id}/members`, { token: joined });
    expect(members.status).toBe(200);
    expect(members.body.members).toContainEqual({
      userId: session.body.user.id,
      email: email.toLowerCase(),
      role: 'member',
      expiresAt,
    });

    const again = await app.request('POST', '/api/orgs/invitations/accept', {
      token: joined,
      body: { token },
    });
    expectError(again, 404, 'NOT_FOUND');

    const actions = (await orgAudit(app, org.id)).map((row) => row.action);
    expect(actions).toEqual(['member.joined', 'member.invited', 'member.joined']);
  });

  it('answers 404 to a user whose email is not the invited one, and leaves the token usable', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'rightful');
    const other = await newUser(app, 'interloper');
    await invite(org.id, owner.token, { email: invitee.email, role: 'viewer' });
    const token = app.tokenFromMail(invitee.email, 'invitation');

    const wrong = await app.request('POST', '/api/orgs/invitations/accept', {
      token: other.token,
      body: { token },
    });
    expectError(wrong, 404, 'NOT_FOUND');
    const right = await app.request('POST', '/api/orgs/invitations/accept', {
      token: invitee.token,
      body: { token },
    });
    expect(right.status).toBe(200);
  });

  it('answers 403 EMAIL_NOT_VERIFIED to an invitee whose email is not verified', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'unverified');
    await invite(org.id, owner.token, { email: invitee.email, role: 'viewer' });
    await app.runtime.platform.db
      .updateTable('users')
      .set({ email_verified_at: null })
      .where('id', '=', invitee.userId)
      .execute();
    const token = app.tokenFromMail(invitee.email, 'invitation');
    const response = await app.request('POST', '/api/orgs/invitations/accept', {
      token: invitee.token,
      body: { token },
    });
    expectError(response, 403, 'EMAIL_NOT_VERIFIED');
  });

  it('never lets an inviter grant a role above their own, and only owners invite owners', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin');
    const above = await invite(org.id, admin.token, { email: 'boss@example.com', role: 'owner' });
    expectError(above, 403, 'INSUFFICIENT_ROLE');
    expect((await invite(org.id, admin.token, { email: 'peer@example.com', role: 'admin' })).status).toBe(
      201,
    );
    // Inviting an owner transfers ownership: it needs step-up.
    expectError(
      await invite(org.id, owner.token, { email: 'co-owner@example.com', role: 'owner' }),
      403,
      'STEP_UP_REQUIRED',
    );
    expect(
      (await invite(org.id, await sudoToken(app, owner), { email: 'co-owner@example.com', role: 'owner' }))
        .status,
    ).toBe(201);
  });

  it('refuses to invite someone who already is a member with 409 CONFLICT', async () => {
    const org = await createOrg(app, owner);
    const viewer = await newMember(app, org.id, 'viewer');
    expectError(
      await invite(org.id, owner.token, { email: viewer.email.toUpperCase(), role: 'member' }),
      409,
      'CONFLICT',
    );
  });

  it('rejects bad invitation input with the exact status and code', async () => {
    const org = await createOrg(app, owner);
    const past = new Date(clock.now().getTime() - MINUTE_MS).toISOString();
    for (const body of [
      {},
      { email: 'a@example.com' },
      { role: 'viewer' },
      { email: 'not-an-email', role: 'viewer' },
      { email: 'a@example.com', role: 'superuser' },
      { email: 'a@example.com', role: 'viewer', expiresAt: 'tomorrow' },
      { email: 'a@example.com', role: 'viewer', expiresAt: past },
      { email: 'a@example.com', role: 'viewer', extra: true },
      { email: 42, role: 'viewer' },
    ]) {
      expectError(await invite(org.id, owner.token, body), 400, 'VALIDATION_FAILED');
    }
    for (const body of [{}, { token: 5 }, { token: 'x', extra: 1 }]) {
      const response = await app.request('POST', '/api/orgs/invitations/accept', {
        token: owner.token,
        body,
      });
      expectError(response, 400, 'VALIDATION_FAILED');
    }
    const unknown = await app.request('POST', '/api/orgs/invitations/accept', {
      token: owner.token,
      body: { token: 'A'.repeat(43) },
    });
    expectError(unknown, 404, 'NOT_FOUND');
    const anonymous = await app.request('POST', '/api/orgs/invitations/accept', {
      body: { token: 'A'.repeat(43) },
    });
    expectError(anonymous, 401, 'UNAUTHENTICATED');
  });
});

describe('role changes', () => {
  it('lets admins change roles up to admin, keeps owner changes to owners, and audits before/after', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin');
    const viewer = await newMember(app, org.id, 'viewer');
    const path = `/api/orgs/${org.id}/members/${viewer.userId}`;

    const promoted = await app.request('PATCH', path, { token: admin.token, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toEqual({ userId: viewer.userId, role: 'admin', expiresAt: null });

    expectError(
      await app.request('PATCH', path, { token: admin.token, body: { role: 'owner' } }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expectError(
      await app.request('PATCH', `/api/orgs/${org.id}/members/${owner.userId}`, {
        token: admin.token,
        body: { role: 'member' },
      }),
      403,
      'INSUFFICIENT_ROLE',
    );
    // Granting owner is an ownership transfer: step-up first.
    expectError(
      await app.request('PATCH', path, { token: owner.token, body: { role: 'owner' } }),
      403,
      'STEP_UP_REQUIRED',
    );
    const crowned = await app.request('PATCH', path, {
      token: await sudoToken(app, owner),
      body: { role: 'owner' },
    });
    expect(crowned.status).toBe(200);

    const changes = (await orgAudit(app, org.id)).filter((row) => row.action === 'member.role_changed');
    expect(changes.map((row) => row.metadata)).toEqual([
      {
        from: 'viewer',
        to: 'admin',
        before: { role: 'viewer', expiresAt: null },
        after: { role: 'admin', expiresAt: null },
        sessionsRevoked: 1,
      },
      {
        from: 'admin',
        to: 'owner',
        before: { role: 'admin', expiresAt: null },
        after: { role: 'owner', expiresAt: null },
        // The raise to admin already ended the viewer's only session.
        sessionsRevoked: 0,
      },
    ]);
  });

  it('refuses to demote, or set an expiry on, the last owner with 409 CONFLICT', async () => {
    const org = await createOrg(app, owner);
    const path = `/api/orgs/${org.id}/members/${owner.userId}`;
    expectError(
      await app.request('PATCH', path, { token: owner.token, body: { role: 'admin' } }),
      409,
      'CONFLICT',
    );
    const later = new Date(clock.now().getTime() + DAY_MS).toISOString();
    expectError(
      await app.request('PATCH', path, { token: owner.token, body: { expiresAt: later } }),
      409,
      'CONFLICT',
    );
    const members = await app.request('GET', `/api/orgs/${org.id}/members`, { token: owner.token });
    expect(members.body.members).toEqual([
      { userId: owner.userId, email: owner.email, role: 'owner', expiresAt: null },
    ]);
  });

  it('sets and clears a membership expiry', async () => {
    const org = await createOrg(app, owner);
    const viewer = await newMember(app, org.id, 'viewer');
    const path = `/api/orgs/${org.id}/members/${viewer.userId}`;
    const until = new Date(clock.now().getTime() + DAY_MS).toISOString();
    expect(
      (await app.request('PATCH', path, { token: owner.token, body: { expiresAt: until } })).body.expiresAt,
    ).toBe(until);
    expect(
      (await app.request('PATCH', path, { token: owner.token, body: { expiresAt: null } })).body.expiresAt,
    ).toBeNull();
  });

  it("rejects bad role-change input, and answers 404 for unknown, malformed and other orgs' user ids", async () => {
    const org = await createOrg(app, owner);
    const viewer = await newMember(app, org.id, 'viewer');
    const path = `/api/orgs/${org.id}/members/${viewer.userId}`;
    const past = new Date(clock.now().getTime() - MINUTE_MS).toISOString();
    for (const body of [
      {},
      { role: 'king' },
      { role: 3 },
      { expiresAt: 'soon' },
      { expiresAt: past },
      { role: 'member', x: 1 },
    ]) {
      expectError(await app.request('PATCH', path, { token: owner.token, body }), 400, 'VALIDATION_FAILED');
    }
    const otherOrg = await createOrg(app, owner);
    const outsider = await newMember(app, otherOrg.id, 'viewer', 'outsider');
    for (const userId of ['00000000-0000-4000-8000-000000000000', 'nope', outsider.userId]) {
      const patch = await app.request('PATCH', `/api/orgs/${org.id}/members/${userId}`, {
        token: owner.token,
        body: { role: 'member' },
      });
      expectError(patch, 404, 'NOT_FOUND');
      expectError(
        await app.request('DELETE', `/api/orgs/${org.id}/members/${userId}`, { token: owner.token }),
        404,
        'NOT_FOUND',
      );
    }
  });
});

describe('member removal', () => {
  it("revokes the member's sessions in that org and cuts the member off on the very next request", async () => {
    const org = await createOrg(app, owner);
    const leaver = await newMember(app, org.id, 'member', 'leaver');
    const bound = await insertSession(app, leaver.userId, org.id);
    const elsewhere = await createOrg(app, leaver);
    const boundElsewhere = await insertSession(app, leaver.userId, elsewhere.id);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: leaver.token })).status).toBe(
      200,
    );
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: bound.token })).status).toBe(
      200,
    );

    const removed = await app.request('DELETE', `/api/orgs/${org.id}/members/${leaver.userId}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);

    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: leaver.token }),
      404,
      'NOT_FOUND',
    );
    expectError(
      await app.request('GET', '/api/sessions/current', { token: bound.token }),
      401,
      'UNAUTHENTICATED',
    );
    // The personal session and a session bound to another org live on.
    expect((await app.request('GET', '/api/sessions/current', { token: leaver.token })).status).toBe(200);
    expect((await app.request('GET', '/api/sessions/current', { token: boundElsewhere.token })).status).toBe(
      200,
    );

    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'member.removed');
    expect(audit?.metadata).toEqual({
      role: 'member',
      sessionsRevoked: 1,
      sessionsCutOff: 1,
      keysRevoked: [],
      invitationsRevoked: [],
    });
    await app.settle();
    const events = await app.runtime.platform.db.selectFrom('outbox').selectAll().execute();
    expect(events).toEqual([]);
  });

  it('keeps owner removal to owners and refuses to remove the last owner with 409 CONFLICT', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin');
    const coOwner = await newMember(app, org.id, 'owner', 'coowner');
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}/members/${coOwner.userId}`, { token: admin.token }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expect(
      (await app.request('DELETE', `/api/orgs/${org.id}/members/${coOwner.userId}`, { token: owner.token }))
        .status,
    ).toBe(204);
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}/members/${owner.userId}`, { token: owner.token }),
      409,
      'CONFLICT',
    );
  });

  it('leaves exactly one owner when the last two owners remove each other at the same time', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await newUser(app, 'first');
      const org = await createOrg(app, first);
      const second = await newMember(app, org.id, 'owner', 'second');
      const [a, b] = await Promise.all([
        app.request('DELETE', `/api/orgs/${org.id}/members/${second.userId}`, { token: first.token }),
        app.request('DELETE', `/api/orgs/${org.id}/members/${first.userId}`, { token: second.token }),
      ]);
      // The loser gets 409 if it got past the gate first, else 404 (already removed).
      expect([a.status, b.status].filter((status) => status === 204)).toHaveLength(1);
      expect([a.status, b.status].filter((status) => status === 409 || status === 404)).toHaveLength(1);
      const owners = await app.runtime.platform.db
        .selectFrom('memberships')
        .select('user_id')
        .where('org_id', '=', org.id)
        .where('role', '=', 'owner')
        .execute();
      expect(owners).toHaveLength(1);
    }
  });
});

describe('last-owner protection under concurrency', () => {
  it('lets only one of two simultaneous owner removals through, below the HTTP gate', async () => {
    const db = app.runtime.platform.db;
    const orgs = createOrgServices({
      db,
      sessions: new SessionService(new SessionStore(db)),
      mailKeys: () => app.runtime.platform.mailKeys(),
      appUrl: 'http://localhost:8080',
      lifecycle: { graceDays: 7, auditRetentionDays: 400 },
    });
    for (let round = 0; round < 5; round++) {
      const first = await insertUser(app, 'first');
      const created = await orgs.directory.create(
        { name: 'race', slug: `race-${round}-${Date.now()}` },
        { userId: first.userId, ip: null },
        clock.now(),
      );
      if (!created.ok) throw new Error('create failed');
      const orgId = created.org.id;
      const second = await insertUser(app, 'second');
      await grantMembership(app, orgId, second.userId, 'owner');
      const results = await Promise.all([
        orgs.members.remove(
          orgId,
          { userId: first.userId, role: 'owner', ip: null },
          second.userId,
          clock.now(),
        ),
        orgs.members.remove(
          orgId,
          { userId: second.userId, role: 'owner', ip: null },
          first.userId,
          clock.now(),
        ),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => (r.ok ? null : r.code))).toEqual(['CONFLICT']);
      const owners = await db
        .selectFrom('memberships')
        .select('user_id')
        .where('org_id', '=', orgId)
        .execute();
      expect(owners).toHaveLength(1);
    }
  });
});

describe('org security policy', () => {
  it('starts without limits, changes by admins, and audits the policy before and after', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin');
    const initial = await app.request('GET', `/api/orgs/${org.id}/policy`, { token: admin.token });
    expect(initial.body).toEqual({
      maxConcurrentSessions: null,
      idleTimeoutMinutes: null,
      absoluteTimeoutHours: null,
      requireMfa: false,
      enterprise: false,
      onLimit: 'revoke_oldest',
      enforceSso: false,
      allowBreakGlass: false,
      requirePasskey: false,
      allowedAaguids: null,
      effectiveIdleTimeoutMinutes: 30,
    });
    const changed = await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: admin.token,
      body: { idleTimeoutMinutes: 120, absoluteTimeoutHours: 336, requireMfa: true },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      idleTimeoutMinutes: 120,
      absoluteTimeoutHours: 336,
      requireMfa: true,
      effectiveIdleTimeoutMinutes: 120,
    });
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'policy.updated');
    expect(audit?.metadata).toMatchObject({
      before: { idleTimeoutMinutes: null, absoluteTimeoutHours: null, requireMfa: false },
      after: { idleTimeoutMinutes: 120, absoluteTimeoutHours: 336, requireMfa: true },
    });
  });

  it('rejects bad policy input with 400 VALIDATION_FAILED', async () => {
    const org = await createOrg(app, owner);
    for (const body of [
      {},
      { absoluteTimeoutHours: 337 },
      { absoluteTimeoutHours: 0 },
      { idleTimeoutMinutes: 1.5 },
      { idleTimeoutMinutes: '30' },
      { maxConcurrentSessions: -1 },
      { requireMfa: 'yes' },
      { onLimit: 'panic' },
      { requireMfa: true, color: 'red' },
    ]) {
      const response = await app.request('PATCH', `/api/orgs/${org.id}/policy`, { token: owner.token, body });
      expectError(response, 400, 'VALIDATION_FAILED');
    }
  });

  it("ends the oldest session's reach into the org when one more enters beyond the org's cap, never the login", async () => {
    const org = await createOrg(app, owner);
    const capped = await newMember(app, org.id, 'member', 'capped');
    await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: owner.token,
      body: { maxConcurrentSessions: 2 },
    });
    const members = `/api/orgs/${org.id}/members`;
    expect((await app.request('GET', members, { token: capped.token })).status).toBe(200);
    clock.advance(1000);
    const second = await login(app, capped.email, capped.password);
    expect((await app.request('GET', members, { token: second.body.token })).status).toBe(200);
    clock.advance(1000);
    const third = await login(app, capped.email, capped.password);
    expect(third.status).toBe(200);
    // Signing in is not acting in the org: the cap has not counted the third session yet.
    expect((await app.request('GET', members, { token: capped.token })).status).toBe(200);
    expect((await app.request('GET', members, { token: third.body.token })).status).toBe(200);

    expectError(await app.request('GET', members, { token: capped.token }), 401, 'UNAUTHENTICATED');
    // The org's cap ends what the oldest session does in the org, not the person's account.
    expect((await app.request('GET', '/api/sessions/current', { token: capped.token })).status).toBe(200);
    expect((await app.request('GET', members, { token: second.body.token })).status).toBe(200);
    expect((await app.request('GET', members, { token: third.body.token })).status).toBe(200);
    const ended = (await orgAudit(app, org.id)).filter((row) => row.action === 'auth_session.revoked');
    expect(ended.map((row) => [row.actor_id, row.metadata])).toEqual([
      [capped.userId, { userId: capped.userId, reason: 'org_session_limit', scope: 'org' }],
    ]);
  });

  it('refuses one more session in the org with 409 CONFLICT when the org says refuse, and never the login', async () => {
    const org = await createOrg(app, owner);
    const capped = await newMember(app, org.id, 'member', 'refused');
    await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: owner.token,
      body: { maxConcurrentSessions: 1, onLimit: 'refuse' },
    });
    const members = `/api/orgs/${org.id}/members`;
    expect((await app.request('GET', members, { token: capped.token })).status).toBe(200);
    const second = await login(app, capped.email, capped.password);
    expect(second.status).toBe(200);
    expect((await app.request('GET', '/api/accounts/activity', { token: second.body.token })).status).toBe(
      200,
    );
    const refused = await app.request('GET', members, { token: second.body.token });
    expectError(refused, 409, 'CONFLICT');
    expect(refused.body.error.reason).toBe('org_session_limit');
    expect((await app.request('GET', members, { token: capped.token })).status).toBe(200);

    // Once the first session is signed out, the second one fits.
    expect((await app.request('POST', '/api/login/logout', { token: capped.token })).status).toBe(204);
    expect((await app.request('GET', members, { token: second.body.token })).status).toBe(200);
  });
});

describe('admin view of org sessions', () => {
  it("lists members' sessions with filters and keyset pages, and hides other orgs' sessions", async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin');
    const target = await insertUser(app, 'listed');
    await grantMembership(app, org.id, target.userId, 'member');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const session = await insertSession(app, target.userId);
      const acted = await app.request('GET', `/api/orgs/${org.id}/members`, { token: session.token });
      expect(acted.status).toBe(200);
      ids.push(session.id);
    }
    const foreignOrg = await createOrg(app, owner);
    const foreign = await insertSession(app, target.userId, foreignOrg.id);
    // A session of the member that never acted in this org is the member's own business.
    const personal = await insertSession(app, target.userId);
    await app.runtime.platform.db
      .updateTable('sessions')
      .set({ revoked_at: clock.now() })
      .where('id', '=', ids[0] ?? '')
      .execute();

    const base = `/api/orgs/${org.id}/sessions?userId=${target.userId}`;
    const all = await app.request('GET', base, { token: admin.token });
    expect(all.status).toBe(200);
    expect(all.body.sessions.map((s: { id: string }) => s.id)).toEqual([...ids].reverse());
    expect(all.body.sessions.map((s: { id: string }) => s.id)).not.toContain(foreign.id);
    expect(all.body.sessions.map((s: { id: string }) => s.id)).not.toContain(personal.id);
    expect(all.body.nextCursor).toBeNull();

    const active = await app.request('GET', `${base}&active=true`, { token: admin.token });
    expect(active.body.sessions.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    const ended = await app.request('GET', `${base}&active=false`, { token: admin.token });
    expect(ended.body.sessions.map((s: { id: string }) => s.id)).toEqual([ids[0]]);

    const first = await app.request('GET', `${base}&limit=2`, { token: admin.token });
    expect(first.body.sessions.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    const next = await app.request('GET', `${base}&limit=2&cursor=${first.body.nextCursor}`, {
      token: admin.token,
    });
    expect(next.body.sessions.map((s: { id: string }) => s.id)).toEqual([ids[0]]);
    expect(next.body.nextCursor).toBeNull();

    const device = await app.request('GET', `${base}&deviceId=00000000-0000-4000-8000-000000000000`, {
      token: admin.token,
    });
    expect(device.body.sessions).toEqual([]);

    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'userId=nope',
      'active=yes',
      'cursor=garbage',
      'color=red',
    ]) {
      expectError(
        await app.request('GET', `/api/orgs/${org.id}/sessions?${query}`, { token: admin.token }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it("ends a session's reach into the org at once, audits it, and answers 404 for sessions the org cannot see", async () => {
    const org = await createOrg(app, owner);
    const target = await newMember(app, org.id, 'member', 'target');
    const members = `/api/orgs/${org.id}/members`;
    expect((await app.request('GET', members, { token: target.token })).status).toBe(200);
    const targetSession = await app.request('GET', '/api/sessions/current', { token: target.token });
    const revoke = await app.request(
      'DELETE',
      `/api/orgs/${org.id}/sessions/${targetSession.body.session.id}`,
      { token: owner.token },
    );
    expect(revoke.status).toBe(204);
    expectError(await app.request('GET', members, { token: target.token }), 401, 'UNAUTHENTICATED');
    // An org admin ends what the session does in the org, never the member's own sign-in.
    expect((await app.request('GET', '/api/sessions/current', { token: target.token })).status).toBe(200);
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'auth_session.revoked');
    expect(audit).toMatchObject({ actor_id: owner.userId, target_id: targetSession.body.session.id });
    expect(audit?.metadata).toMatchObject({ reason: 'org_admin', scope: 'org' });

    // A session bound to the org (SSO) has no other use: it is revoked.
    const bound = await insertSession(app, target.userId, org.id);
    expect(
      (await app.request('DELETE', `/api/orgs/${org.id}/sessions/${bound.id}`, { token: owner.token }))
        .status,
    ).toBe(204);
    expectError(
      await app.request('GET', '/api/sessions/current', { token: bound.token }),
      401,
      'UNAUTHENTICATED',
    );

    const stranger = await newUser(app, 'stranger');
    const strangerSession = await app.request('GET', '/api/sessions/current', { token: stranger.token });
    const otherOrg = await createOrg(app, stranger);
    const boundElsewhere = await insertSession(app, owner.userId, otherOrg.id);
    const neverActed = await insertSession(app, target.userId);
    for (const id of [
      strangerSession.body.session.id,
      boundElsewhere.id,
      neverActed.id,
      '00000000-0000-4000-8000-000000000000',
      'nope',
    ]) {
      expectError(
        await app.request('DELETE', `/api/orgs/${org.id}/sessions/${id}`, { token: owner.token }),
        404,
        'NOT_FOUND',
      );
    }
    expect((await app.request('GET', '/api/sessions/current', { token: stranger.token })).status).toBe(200);
    expect((await app.request('GET', members, { token: neverActed.token })).status).toBe(200);
  });
});

describe('invitation expiry', () => {
  it('answers 404 to an invitation token older than 7 days', async () => {
    const org = await createOrg(app, owner);
    const invitee = await insertUser(app, 'late');
    await invite(org.id, owner.token, { email: invitee.email, role: 'viewer' });
    const token = app.tokenFromMail(invitee.email, 'invitation');
    clock.advance(7 * DAY_MS);
    const fresh = await newUser(app, 'fresh');
    await app.runtime.platform.db
      .updateTable('users')
      .set({ email: `${fresh.email}.old`, email_normalized: `${fresh.email}.old` })
      .where('id', '=', invitee.userId)
      .execute();
    await app.runtime.platform.db
      .updateTable('users')
      .set({ email: invitee.email, email_normalized: invitee.email })
      .where('id', '=', fresh.userId)
      .execute();
    const response = await app.request('POST', '/api/orgs/invitations/accept', {
      token: fresh.token,
      body: { token },
    });
    expectError(response, 404, 'NOT_FOUND');
  });
});
