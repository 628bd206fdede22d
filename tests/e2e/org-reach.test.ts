import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  grantMembership,
  insertInvitation,
  insertSession,
  login,
  newMember,
  newUser,
  orgAudit,
  orgTestEnv,
  type TestUser,
} from '../helpers/orgs.js';

/**
 * What an org can and cannot do to a member's account, replayed over HTTP: org policies and org
 * admins reach what a session does in their org only (idle timeout judged on activity in the org),
 * and a member who is removed, demoted or leaves keeps nothing beyond their new reach.
 */
const clock = new FakeClock('2026-05-04T10:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
});
afterAll(async () => {
  await app?.stop();
});

async function setPolicy(orgId: string, body: Record<string, unknown>) {
  const res = await app.request('PATCH', `/api/orgs/${orgId}/policy`, { token: owner.token, body });
  expect(res.status, res.text).toBe(200);
}

async function inviteAs(orgId: string, token: string, email: string, role = 'admin') {
  const res = await app.request('POST', `/api/orgs/${orgId}/invitations`, { token, body: { email, role } });
  expect(res.status, res.text).toBe(201);
  await app.settle();
  return { id: res.body.id as string, token: app.tokenFromMail(email, 'invitation') };
}

function accept(user: TestUser, token: string) {
  return app.request('POST', '/api/orgs/invitations/accept', { token: user.token, body: { token } });
}

async function createKey(orgId: string, token: string, role: string) {
  const res = await app.request('POST', `/api/orgs/${orgId}/keys`, {
    token,
    body: { name: `${role} key`, role },
  });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id as string, key: res.body.key as string };
}

describe('the org idle timeout counts activity in that org only', () => {
  it('ends the reach of a session kept alive only through GET /api/sessions/current: 401 in the org, audited', async () => {
    const org = await createOrg(app, owner);
    await setPolicy(org.id, { idleTimeoutMinutes: 10 });
    const member = await newMember(app, org.id, 'member', 'dodger');
    const members = `/api/orgs/${org.id}/members`;
    expect((await app.request('GET', members, { token: member.token })).status).toBe(200);
    for (let minute = 0; minute < 15; minute += 3) {
      clock.advance(3 * MINUTE_MS);
      expect((await app.request('GET', '/api/sessions/current', { token: member.token })).status).toBe(200);
    }
    // The admin view already shows it idle in the org, with its last activity there. (The owner's
    // own session has been idle here just as long, so a fresh admin looks.)
    const admin = await newMember(app, org.id, 'admin', 'watcher');
    const view = await app.request('GET', `/api/orgs/${org.id}/sessions?userId=${member.userId}`, {
      token: admin.token,
    });
    expect(view.body.sessions, view.text).toEqual([
      expect.objectContaining({
        active: false,
        lastSeenAt: new Date(clock.now().getTime() - 15 * MINUTE_MS).toISOString(),
      }),
    ]);
    expectError(await app.request('GET', members, { token: member.token }), 401, 'UNAUTHENTICATED');
    // Personal routes never counted in the org, and the org never signs the person out of them.
    expect((await app.request('GET', '/api/sessions/current', { token: member.token })).status).toBe(200);
    expectError(await app.request('GET', members, { token: member.token }), 401, 'UNAUTHENTICATED');

    const current = await app.request('GET', '/api/sessions/current', { token: member.token });
    const ended = (await orgAudit(app, org.id)).filter((row) => row.action === 'auth_session.revoked');
    expect(ended.map((row) => [row.actor_type, row.target_id, row.metadata])).toEqual([
      [
        'system',
        current.body.session.id,
        { userId: member.userId, reason: 'org_idle_timeout', scope: 'org' },
      ],
    ]);
  });

  it('keeps a session that acts in the org within the timeout, and records that activity at most once a minute', async () => {
    const org = await createOrg(app, owner);
    await setPolicy(org.id, { idleTimeoutMinutes: 10 });
    const member = await newMember(app, org.id, 'member', 'busy');
    const members = `/api/orgs/${org.id}/members`;
    expect((await app.request('GET', members, { token: member.token })).status).toBe(200);
    const activityOf = async () =>
      (
        await app.runtime.platform.db
          .selectFrom('session_org_activity')
          .select('last_activity_at')
          .where('org_id', '=', org.id)
          .where('user_id', '=', member.userId)
          .executeTakeFirstOrThrow()
      ).last_activity_at;
    const entered = await activityOf();
    clock.advance(30_000);
    expect((await app.request('GET', members, { token: member.token })).status).toBe(200);
    expect(await activityOf()).toEqual(entered);
    for (let minute = 0; minute < 30; minute += 6) {
      clock.advance(6 * MINUTE_MS);
      expect((await app.request('GET', members, { token: member.token })).status).toBe(200);
    }
    expect((await activityOf()).getTime()).toBe(clock.now().getTime());
  });

  it('a session bound to the org is revoked when it goes idle there: it has no other use', async () => {
    const org = await createOrg(app, owner);
    await setPolicy(org.id, { idleTimeoutMinutes: 10 });
    const member = await newMember(app, org.id, 'member', 'bound');
    const bound = await insertSession(app, member.userId, org.id);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: bound.token })).status).toBe(
      200,
    );
    clock.advance(6 * MINUTE_MS);
    expect((await app.request('GET', '/api/sessions/current', { token: bound.token })).status).toBe(200);
    clock.advance(6 * MINUTE_MS);
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: bound.token }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.request('GET', '/api/sessions/current', { token: bound.token }),
      401,
      'UNAUTHENTICATED',
    );
  });
});

describe("the org's session cap", () => {
  it('lets exactly one of two sessions entering the org at once through a refusing cap of one', async () => {
    const org = await createOrg(app, owner);
    await setPolicy(org.id, { maxConcurrentSessions: 1, onLimit: 'refuse' });
    const member = await newMember(app, org.id, 'member', 'racer');
    const second = await login(app, member.email, member.password);
    const answers = await Promise.all(
      [member.token, second.body.token].map((token) =>
        app.request('GET', `/api/orgs/${org.id}/members`, { token }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    // Both sessions still work on the account's own routes.
    for (const token of [member.token, second.body.token]) {
      expect((await app.request('GET', '/api/sessions/current', { token })).status).toBe(200);
    }
  });
});

describe("an org admin's view of the org's sessions", () => {
  it("shows the sessions that acted in the org, never a member's sessions used elsewhere", async () => {
    const org = await createOrg(app, owner);
    const otherOrg = await createOrg(app, owner);
    const member = await newMember(app, org.id, 'member', 'private');
    await grantMembership(app, otherOrg.id, member.userId, 'member');
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: member.token })).status).toBe(
      200,
    );
    const elsewhere = await login(app, member.email, member.password);
    expect(
      (await app.request('GET', `/api/orgs/${otherOrg.id}/members`, { token: elsewhere.body.token })).status,
    ).toBe(200);
    const here = await app.request('GET', '/api/sessions/current', { token: member.token });

    const listed = await app.request('GET', `/api/orgs/${org.id}/sessions?userId=${member.userId}`, {
      token: owner.token,
    });
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([here.body.session.id]);
    const other = await app.request('GET', `/api/orgs/${otherOrg.id}/sessions?userId=${member.userId}`, {
      token: owner.token,
    });
    expect(other.body.sessions.map((s: { id: string }) => s.id)).toEqual([elsewhere.body.session.id]);
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}/sessions/${elsewhere.body.session.id}`, {
        token: owner.token,
      }),
      404,
      'NOT_FOUND',
    );
  });
});

describe('a removed or demoted admin keeps nothing beyond their new reach', () => {
  it("revokes a removed admin's API key and invitation in the removal: the key stops reading sessions and audit", async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin', 'rogue');
    const { id: keyId, key } = await createKey(org.id, admin.token, 'admin');
    const accomplice = await newUser(app, 'accomplice');
    const invitation = await inviteAs(org.id, admin.token, accomplice.email, 'admin');
    for (const path of [`/api/orgs/${org.id}/sessions`, `/api/orgs/${org.id}/audit`]) {
      expect((await app.request('GET', path, { token: key })).status).toBe(200);
    }

    const removed = await app.request('DELETE', `/api/orgs/${org.id}/members/${admin.userId}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    for (const path of [`/api/orgs/${org.id}/sessions`, `/api/orgs/${org.id}/audit`]) {
      expectError(await app.request('GET', path, { token: key }), 401, 'UNAUTHENTICATED');
    }
    expectError(await accept(accomplice, invitation.token), 404, 'NOT_FOUND');
    const pending = await app.request('GET', `/api/orgs/${org.id}/invitations`, { token: owner.token });
    expect(pending.body.invitations).toEqual([]);
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'member.removed');
    expect(audit?.metadata).toMatchObject({
      role: 'admin',
      keysRevoked: [{ id: keyId, role: 'admin' }],
      invitationsRevoked: [{ id: invitation.id, role: 'admin' }],
    });
  });

  it("revokes a demoted admin's admin keys and invitations, and keeps the keys within the new role", async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin', 'demoted');
    const adminKey = await createKey(org.id, admin.token, 'admin');
    const memberKey = await createKey(org.id, admin.token, 'member');
    const invitee = await newUser(app, 'invitee');
    const invitation = await inviteAs(org.id, admin.token, invitee.email, 'viewer');

    const demoted = await app.request('PATCH', `/api/orgs/${org.id}/members/${admin.userId}`, {
      token: owner.token,
      body: { role: 'member' },
    });
    expect(demoted.status, demoted.text).toBe(200);
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: adminKey.key }),
      401,
      'UNAUTHENTICATED',
    );
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: memberKey.key })).status).toBe(
      200,
    );
    // A member cannot invite anyone, so the invitation they sent as an admin is withdrawn.
    expectError(await accept(invitee, invitation.token), 404, 'NOT_FOUND');
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'member.role_changed');
    expect(audit?.metadata).toMatchObject({
      from: 'admin',
      to: 'member',
      keysRevoked: [{ id: adminKey.id, role: 'admin' }],
      invitationsRevoked: [{ id: invitation.id, role: 'viewer' }],
    });
    const keys = await app.request('GET', `/api/orgs/${org.id}/keys`, { token: owner.token });
    expect(keys.body.keys.map((k: { id: string }) => k.id)).toEqual([memberKey.id]);
  });

  it('refuses an invitation whose inviter is no longer an admin, however that came about', async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin', 'lapsing');
    const invitee = await newUser(app, 'late-invitee');
    const invitation = await inviteAs(org.id, admin.token, invitee.email, 'member');
    // Not through the member routes (which would withdraw it): the inviter's membership lapses.
    await app.runtime.platform.db
      .updateTable('memberships')
      .set({ expires_at: new Date(clock.now().getTime() + MINUTE_MS) })
      .where('org_id', '=', org.id)
      .where('user_id', '=', admin.userId)
      .execute();
    clock.advance(2 * MINUTE_MS);
    expectError(await accept(invitee, invitation.token), 404, 'NOT_FOUND');
    const rogue = await insertInvitation(app, org.id, {
      role: 'viewer',
      invitedBy: null,
      email: invitee.email,
    });
    expectError(await accept(invitee, rogue.token), 404, 'NOT_FOUND');
  });
});

describe('invitations an admin can see and withdraw', () => {
  it('lists pending invitations with email, role, inviter and expiry, and names the invitation, never the address, in member.invited', async () => {
    const org = await createOrg(app, owner);
    const email = `listed-${Date.now()}@example.com`;
    const invited = await inviteAs(org.id, owner.token, email, 'member');
    const listed = await app.request('GET', `/api/orgs/${org.id}/invitations`, { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      invitations: [
        {
          id: invited.id,
          email,
          role: 'member',
          invitedBy: owner.userId,
          expiresAt: new Date(clock.now().getTime() + 7 * 24 * 60 * MINUTE_MS).toISOString(),
        },
      ],
    });
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'member.invited');
    expect(audit).toMatchObject({ target_type: 'invitation', target_id: invited.id });
    expect(audit?.metadata).toMatchObject({ role: 'member' });
    expect(JSON.stringify(audit?.metadata)).not.toContain(email);
  });

  it('withdraws an invitation: 204, audited, its link no longer works; another org’s or a second delete is 404', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'withdrawn');
    const invitation = await inviteAs(org.id, owner.token, invitee.email, 'member');
    const otherOrg = await createOrg(app, owner);
    const foreign = await insertInvitation(app, otherOrg.id);
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}/invitations/${foreign.id}`, { token: owner.token }),
      404,
      'NOT_FOUND',
    );
    for (const id of ['nope', '00000000-0000-4000-8000-000000000000']) {
      expectError(
        await app.request('DELETE', `/api/orgs/${org.id}/invitations/${id}`, { token: owner.token }),
        404,
        'NOT_FOUND',
      );
    }

    const withdrawn = await app.request('DELETE', `/api/orgs/${org.id}/invitations/${invitation.id}`, {
      token: owner.token,
    });
    expect(withdrawn.status).toBe(204);
    expectError(await accept(invitee, invitation.token), 404, 'NOT_FOUND');
    expectError(
      await app.request('DELETE', `/api/orgs/${org.id}/invitations/${invitation.id}`, { token: owner.token }),
      404,
      'NOT_FOUND',
    );
    const listed = await app.request('GET', `/api/orgs/${org.id}/invitations`, { token: owner.token });
    expect(listed.body.invitations).toEqual([]);
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'invitation.revoked');
    expect(audit).toMatchObject({ actor_id: owner.userId, target_id: invitation.id });
    expect(audit?.metadata).toMatchObject({ role: 'member' });
    expect(JSON.stringify(audit?.metadata)).not.toContain(invitee.email);
    // The other org's invitation is untouched.
    const otherList = await app.request('GET', `/api/orgs/${otherOrg.id}/invitations`, {
      token: owner.token,
    });
    expect(otherList.body.invitations.map((i: { id: string }) => i.id)).toEqual([foreign.id]);
  });
});

describe('leaving an org', () => {
  it("ends the member's reach like a removal: org 404, bound sessions revoked, keys and invitations revoked, audited", async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin', 'leaver');
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: admin.token })).status).toBe(
      200,
    );
    const bound = await insertSession(app, admin.userId, org.id);
    const { key } = await createKey(org.id, admin.token, 'member');
    const invitee = await newUser(app, 'left-behind');
    const invitation = await inviteAs(org.id, admin.token, invitee.email, 'member');

    const left = await app.request('POST', `/api/orgs/${org.id}/leave`, { token: admin.token });
    expect(left.status, left.text).toBe(204);
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: admin.token }),
      404,
      'NOT_FOUND',
    );
    expect((await app.request('GET', '/api/sessions/current', { token: admin.token })).status).toBe(200);
    expectError(
      await app.request('GET', '/api/sessions/current', { token: bound.token }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: key }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(await accept(invitee, invitation.token), 404, 'NOT_FOUND');
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'member.removed');
    expect(audit).toMatchObject({ actor_id: admin.userId, target_id: admin.userId });
    expect(audit?.metadata).toMatchObject({
      role: 'admin',
      reason: 'left',
      sessionsRevoked: 1,
      sessionsCutOff: 1,
    });
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/leave`, { token: admin.token }),
      404,
      'NOT_FOUND',
    );
  });

  it('lets a member leave whatever the org policy says, even with a session the org would refuse', async () => {
    const org = await createOrg(app, owner);
    await setPolicy(org.id, { maxConcurrentSessions: 1, onLimit: 'refuse', requireMfa: true });
    const member = await newMember(app, org.id, 'member', 'trapped');
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: member.token }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expect((await app.request('POST', `/api/orgs/${org.id}/leave`, { token: member.token })).status).toBe(
      204,
    );
  });

  it('refuses the last owner with 409 CONFLICT, and answers 404 to a non-member and another org; a session an org SSO started cannot leave (403)', async () => {
    const org = await createOrg(app, owner);
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/leave`, { token: owner.token }),
      409,
      'CONFLICT',
    );
    const members = await app.request('GET', `/api/orgs/${org.id}/members`, { token: owner.token });
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual([owner.userId]);

    const stranger = await newUser(app, 'stranger');
    for (const path of [`/api/orgs/${org.id}/leave`, '/api/orgs/nope/leave']) {
      expectError(await app.request('POST', path, { token: stranger.token }), 404, 'NOT_FOUND');
    }
    const member = await newMember(app, org.id, 'member', 'bound-elsewhere');
    const elsewhere = await createOrg(app, member);
    const boundElsewhere = await insertSession(app, member.userId, elsewhere.id);
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/leave`, { token: boundElsewhere.token }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expectError(await app.request('POST', `/api/orgs/${org.id}/leave`), 401, 'UNAUTHENTICATED');
    // A second owner can let the first one go.
    const coOwner = await newMember(app, org.id, 'owner', 'co-owner');
    expect((await app.request('POST', `/api/orgs/${org.id}/leave`, { token: coOwner.token })).status).toBe(
      204,
    );
  });
});
