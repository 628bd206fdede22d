import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { core } from '../../shared/runtime/core.js';
import { revocationStreamKey, sessionTokenHash } from '../../shared/sessions/model.js';
import { FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, login, newUser, orgAudit, orgTestEnv, type TestUser } from '../helpers/orgs.js';

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

function expectError(response: { status: number; body: any; text: string }, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body.error.code).toBe(code);
}

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
      headers: cookie(invitee.token),
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
