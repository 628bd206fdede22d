import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { core } from '../../shared/runtime/core.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  grantMembership,
  newUser,
  orgAudit,
  orgTestEnv,
  type TestUser,
} from '../helpers/orgs.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * An admin's request passes the org gate, then their removal commits, then the request writes: a
 * key, an endpoint or an invitation made by someone who is no longer a member. The removal could
 * not withdraw what did not exist yet, so each must fail on use. The services are called after the
 * removal with the admin's stale authorization, which is exactly what the slow request holds.
 */
let app: TestApp;
let owner: TestUser;
const receiver = new WebhookReceiver();
let url: string;

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
  owner = await newUser(app, 'owner');
  url = await receiver.start('/late');
});
afterAll(async () => {
  await receiver.stop();
  await app?.stop();
});
beforeEach(() => receiver.reset());

async function removedAdmin() {
  const org = await createOrg(app, owner);
  const admin = await newUser(app, 'overtaken');
  await grantMembership(app, org.id, admin.userId, 'admin');
  const removed = await app.request('DELETE', `/api/orgs/${org.id}/members/${admin.userId}`, {
    token: owner.token,
  });
  expect(removed.status, removed.text).toBe(204);
  return { org, admin, stale: { userId: admin.userId, role: 'admin' as const, ip: null } };
}

describe('a write its removal overtook', () => {
  it('an API key issued after the removal committed never works', async () => {
    const { org, stale } = await removedAdmin();
    const now = app.runtime.platform.clock.now();
    const issued = await (await core()).apiKeys.issue(
      org.id,
      { name: 'late', role: 'admin', expiresAt: null },
      { ...stale, inStepUp: false },
      now,
    );
    if (!issued.ok) throw new Error(issued.code);
    expectError(
      await app.request('GET', `/api/orgs/${org.id}/members`, { token: issued.issued.key }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('a webhook endpoint created after the removal committed gets no events', async () => {
    const { org, stale } = await removedAdmin();
    const now = app.runtime.platform.clock.now();
    const created = await (await core()).webhooks.create(
      org.id,
      { url, events: ['*'], format: 'standard' },
      stale,
      now,
    );
    if (!created.ok) throw new Error(created.code);
    await app.settle();
    receiver.reset();
    const changed = await app.request('PATCH', `/api/orgs/${org.id}/policy`, {
      token: owner.token,
      body: { requireMfa: false },
    });
    expect(changed.status, changed.text).toBe(200);
    await app.settle();
    expect(receiver.received).toEqual([]);
  });

  it('an invitation sent after the removal committed cannot be accepted', async () => {
    const { org, stale } = await removedAdmin();
    const invitee = await newUser(app, 'late-invitee');
    const sent = await (await core()).orgs.invitations.invite(
      org.id,
      stale,
      { email: invitee.email, role: 'admin', expiresAt: null },
      app.runtime.platform.clock.now(),
    );
    expect(sent.ok).toBe(true);
    await app.settle();
    const accepted = await app.request('POST', '/api/orgs/invitations/accept', {
      token: invitee.token,
      body: { token: app.tokenFromMail(invitee.email, 'invitation') },
    });
    expectError(accepted, 404, 'NOT_FOUND');
  });
});

describe('an invitation accepted while its inviter is removed', () => {
  it('either joins before the removal or not at all, never both joined and withdrawn', async () => {
    for (let round = 0; round < 4; round++) {
      const org = await createOrg(app, owner);
      const admin = await newUser(app, 'racing-admin');
      await grantMembership(app, org.id, admin.userId, 'admin');
      const invitee = await newUser(app, 'racing-invitee');
      const invited = await app.request('POST', `/api/orgs/${org.id}/invitations`, {
        token: admin.token,
        body: { email: invitee.email, role: 'admin' },
      });
      expect(invited.status, invited.text).toBe(201);
      await app.settle();
      const token = app.tokenFromMail(invitee.email, 'invitation');

      const [accepted, removed] = await Promise.all([
        app.request('POST', '/api/orgs/invitations/accept', { token: invitee.token, body: { token } }),
        app.request('DELETE', `/api/orgs/${org.id}/members/${admin.userId}`, { token: owner.token }),
      ]);
      expect(removed.status, removed.text).toBe(204);
      const withdrawn = (await orgAudit(app, org.id)).find((row) => row.action === 'member.removed')
        ?.metadata as { invitationsRevoked: Array<{ id: string }> };
      const member = await app.runtime.platform.db
        .selectFrom('memberships')
        .select('role')
        .where('org_id', '=', org.id)
        .where('user_id', '=', invitee.userId)
        .executeTakeFirst();
      if (accepted.status === 200) {
        expect(member?.role).toBe('admin');
        expect(withdrawn.invitationsRevoked).toEqual([]);
      } else {
        expectError(accepted, 404, 'NOT_FOUND');
        expect(member).toBeUndefined();
        expect(withdrawn.invitationsRevoked).toEqual([{ id: invited.body.id, role: 'admin' }]);
      }
    }
  });
});
