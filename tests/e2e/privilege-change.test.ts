import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { core } from '../../shared/runtime/core.js';
import { revocationStreamKey, sessionTokenHash } from '../../shared/sessions/model.js';
import { DAY_MS, FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  insertSession,
  login,
  newMember,
  newUser,
  orgAudit,
  orgTestEnv,
  sudoToken,
  type TestUser,
} from '../helpers/orgs.js';

/**
 * SECURITY.md "Sessions": a new session after a privilege change gets a fresh token (no fixation).
 * Whoever gains privilege in their own request (accepting an invitation) continues on a new token;
 * a member whose role an admin raises must sign in again.
 */
const clock = new FakeClock('2026-05-04T09:00:00Z');
let app: TestApp;
let owner: TestUser;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
});
afterAll(async () => {
  await app?.stop();
});

/** The owner invites `email`; returns the token from the mail. */
async function invitationFor(orgId: string, email: string, role: 'viewer' | 'member' | 'admin') {
  const invited = await app.request('POST', `/api/orgs/${orgId}/invitations`, {
    token: owner.token,
    body: { email, role },
  });
  expect(invited.status, invited.text).toBe(201);
  await app.settle();
  return app.tokenFromMail(email, 'invitation');
}

const roleChanges = async (orgId: string) =>
  (await orgAudit(app, orgId))
    .filter((row) => row.action === 'member.role_changed')
    .map((row) => row.metadata);

const cookie = (token: string) => ({ cookie: `__Host-sf_session=${token}` });

/** Why the live-revocation feed says the token ended (null while it has not). */
async function revokedReason(token: string): Promise<string | null> {
  await app.settle();
  const entry = await (await core()).revocationFeed.lookup(revocationStreamKey(sessionTokenHash(token)));
  return entry?.reason ?? null;
}

describe('accepting an invitation', () => {
  it('replaces the session: the old token fails at once and the returned one acts in the org', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'joiner');
    const before = (await app.request('GET', '/api/sessions/current', { token: invitee.token })).body.session;
    const invitation = await invitationFor(org.id, invitee.email, 'member');

    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: invitee.token,
      body: { token: invitation },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toMatchObject({ orgId: org.id, role: 'member' });
    const fresh: string = accepted.body.token;
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toBe(invitee.token);
    // The same login continued: device, start and absolute expiry carry over; only the token is new.
    expect(accepted.body.session.id).not.toBe(before.id);
    expect(accepted.body.session).toMatchObject({
      deviceId: before.deviceId,
      createdAt: before.createdAt,
      expiresAt: before.expiresAt,
      sudoUntil: null,
    });
    expect(accepted.headers.get('set-cookie')).toContain(`__Host-sf_session=${fresh};`);

    expectError(
      await app.request('GET', '/api/sessions/current', { token: invitee.token }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: invitee.token }),
      401,
      'UNAUTHENTICATED',
    );
    const members = await app.request('GET', `/api/orgs/${org.id}/members`, { token: fresh });
    expect(members.status).toBe(200);
    expect(members.body.members).toContainEqual(
      expect.objectContaining({ userId: invitee.userId, role: 'member' }),
    );

    expect(await revokedReason(invitee.token)).toBe('privilege_change');
    const joined = (await orgAudit(app, org.id)).filter((row) => row.action === 'member.joined').at(-1);
    expect(joined?.actor_id).toBe(invitee.userId);
    expect(joined?.metadata).toMatchObject({
      role: 'member',
      via: 'invitation',
      sessionId: accepted.body.session.id,
      previousSessionId: before.id,
    });
  });

  it('answers a cookie-borne session with a new __Host-sf_session cookie; the old cookie fails', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'browser');
    const invitation = await invitationFor(org.id, invitee.email, 'viewer');

    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      // A browser sends its page's origin; cookie-borne unsafe requests need APP_URL's.
      headers: { ...cookie(invitee.token), origin: 'http://localhost:8080' },
      body: { token: invitation },
    });
    expect(accepted.status, accepted.text).toBe(200);
    const setCookie = accepted.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^__Host-sf_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain(`__Host-sf_session=${accepted.body.token};`);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/']) {
      expect(setCookie).toContain(attribute);
    }

    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { headers: cookie(invitee.token) }),
      401,
      'UNAUTHENTICATED',
    );
    const members = await app.request('GET', `/api/orgs/${org.id}/members`, {
      headers: cookie(accepted.body.token),
    });
    expect(members.status).toBe(200);
  });

  it('does not carry a sudo window over to the new session', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'sudoer');
    const stepped = await app.request('POST', '/api/sessions/step-up', {
      token: invitee.token,
      body: { password: invitee.password },
    });
    expect(stepped.status, stepped.text).toBe(200);
    const invitation = await invitationFor(org.id, invitee.email, 'admin');

    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: stepped.body.token,
      body: { token: invitation },
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.session.sudoUntil).toBeNull();
    const sudoRoute = await app.request('POST', '/api/accounts/password', {
      token: accepted.body.token,
      body: { currentPassword: invitee.password, newPassword: 'another long passphrase 77' },
    });
    expectError(sudoRoute, 403, 'STEP_UP_REQUIRED');
  });

  it("leaves the caller's token as it was when the acceptance is refused", async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'rightful');
    const other = await newUser(app, 'interloper');
    const invitation = await invitationFor(org.id, invitee.email, 'member');

    expectError(
      await app.request('POST', '/api/orgs/invitations/accept', {
        token: other.token,
        body: { token: invitation },
      }),
      404,
      'NOT_FOUND',
    );
    expect((await app.request('GET', '/api/sessions/current', { token: other.token })).status).toBe(200);
    expect(await revokedReason(other.token)).toBeNull();
  });

  it('answers 401 and leaves the invitation unspent when the session was revoked while accepting', async () => {
    const org = await createOrg(app, owner);
    const invitee = await newUser(app, 'raced');
    const invitation = await invitationFor(org.id, invitee.email, 'member');
    const db = app.runtime.platform.db;
    const current = await db
      .selectFrom('sessions')
      .selectAll()
      .where('token_hash', '=', sessionTokenHash(invitee.token))
      .executeTakeFirstOrThrow();
    // The request authenticated with this row; another tab logs out before the acceptance runs.
    await db.updateTable('sessions').set({ revoked_at: clock.now() }).where('id', '=', current.id).execute();

    const result = await (await core()).orgs.invitations.accept(
      invitation,
      { session: current, ip: '10.0.0.1', userAgent: null },
      clock.now(),
    );
    expect(result).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });

    const again = await login(app, invitee.email, invitee.password);
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: again.body.token,
      body: { token: invitation },
    });
    expect(accepted.status, accepted.text).toBe(200);
  });
});

describe("raising a member's role", () => {
  it("ends the member's sessions in the org on the very next request; the admin's session keeps working", async () => {
    const org = await createOrg(app, owner);
    const admin = await newMember(app, org.id, 'admin', 'admin');
    const promoted = await newMember(app, org.id, 'viewer', 'promoted');
    const boundHere = await insertSession(app, promoted.userId, org.id);
    const elsewhere = await createOrg(app, promoted);
    const boundElsewhere = await insertSession(app, promoted.userId, elsewhere.id);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: promoted.token })).status).toBe(
      200,
    );

    const changed = await app.request('PATCH', `/api/orgs/${org.id}/members/${promoted.userId}`, {
      token: admin.token,
      body: { role: 'member' },
    });
    expect(changed.status, changed.text).toBe(200);

    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: promoted.token }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.request('GET', '/api/sessions/current', { token: boundHere.token }),
      401,
      'UNAUTHENTICATED',
    );
    // A session bound to another org cannot act here, so it gains nothing and is not this org's to end.
    expect((await app.request('GET', '/api/sessions/current', { token: boundElsewhere.token })).status).toBe(
      200,
    );
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: admin.token })).status).toBe(
      200,
    );

    expect(await revokedReason(promoted.token)).toBe('privilege_change');
    expect(await revokedReason(boundHere.token)).toBe('privilege_change');
    expect(await roleChanges(org.id)).toEqual([
      expect.objectContaining({ from: 'viewer', to: 'member', sessionsRevoked: 2 }),
    ]);

    const again = await login(app, promoted.email, promoted.password);
    const orgs = await app.request('GET', '/api/orgs', { token: again.body.token });
    expect(orgs.body.orgs).toContainEqual(expect.objectContaining({ id: org.id, role: 'member' }));
  });

  it("ends the new owner's sessions on an ownership transfer, not the granting owner's", async () => {
    const org = await createOrg(app, owner);
    const heir = await newMember(app, org.id, 'admin', 'heir');
    const sudo = await sudoToken(app, owner);

    const crowned = await app.request('PATCH', `/api/orgs/${org.id}/members/${heir.userId}`, {
      token: sudo,
      body: { role: 'owner' },
    });
    expect(crowned.status, crowned.text).toBe(200);

    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: heir.token }),
      401,
      'UNAUTHENTICATED',
    );
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: sudo })).status).toBe(200);
    expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: owner.token })).status).toBe(
      200,
    );
    expect(await roleChanges(org.id)).toEqual([expect.objectContaining({ to: 'owner', sessionsRevoked: 1 })]);
  });

  it("keeps the member's session on a demotion, the same role again, or an expiry change", async () => {
    const org = await createOrg(app, owner);
    const demoted = await newMember(app, org.id, 'admin', 'demoted');
    const path = `/api/orgs/${org.id}/members/${demoted.userId}`;
    const until = new Date(clock.now().getTime() + DAY_MS).toISOString();
    for (const body of [{ role: 'viewer' }, { role: 'viewer' }, { expiresAt: until }]) {
      const changed = await app.request('PATCH', path, { token: owner.token, body });
      expect(changed.status, changed.text).toBe(200);
      expect((await app.request('GET', `/api/orgs/${org.id}/members`, { token: demoted.token })).status).toBe(
        200,
      );
    }
    // The lower role bites at once on the same token.
    expectError(
      await app.request('POST', `/api/orgs/${org.id}/invitations`, {
        token: demoted.token,
        body: { email: 'someone@example.com', role: 'viewer' },
      }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expect(await revokedReason(demoted.token)).toBeNull();
    expect((await roleChanges(org.id)).map((metadata: any) => metadata.sessionsRevoked)).toEqual([0, 0, 0]);
  });
});
