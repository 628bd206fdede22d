import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, MINUTE_MS } from '../../shared/time/clock.js';
import { stepUp } from '../helpers/allowlist.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createOrg, grantMembership, newUser, orgAudit, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * A webhook endpoint is an admin's standing read of the org's audit events, sent to a URL they
 * chose. An admin who is removed, leaves, is demoted below admin or whose membership lapses must
 * not keep receiving them: their endpoints stop until a current admin turns them back on.
 */
const clock = new FakeClock('2026-06-01T09:00:00Z');
let app: TestApp;
let owner: TestUser;
const theirs = new WebhookReceiver();
const ours = new WebhookReceiver();
let theirUrl: string;
let ourUrl: string;

beforeAll(async () => {
  app = await startTestApp({ clock, env: orgTestEnv });
  owner = await newUser(app, 'owner');
  theirUrl = await theirs.start('/exfil');
  ourUrl = await ours.start('/siem');
});
afterAll(async () => {
  await theirs.stop();
  await ours.stop();
  await app?.stop();
});
beforeEach(() => {
  theirs.reset();
  ours.reset();
});

async function addEndpoint(orgId: string, user: TestUser, url: string) {
  await stepUp(app, user);
  const res = await app.request('POST', `/api/orgs/${orgId}/webhooks`, {
    token: user.token,
    body: { url, events: ['*'], format: 'standard' },
  });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** An org event every endpoint asks for; settles, so whatever was sent has arrived. */
async function orgEvent(orgId: string) {
  const res = await app.request('PATCH', `/api/orgs/${orgId}/policy`, {
    token: owner.token,
    body: { requireMfa: false },
  });
  expect(res.status, res.text).toBe(200);
  await app.settle();
}

async function endpoint(orgId: string, id: string) {
  const res = await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}`, { token: owner.token });
  expect(res.status, res.text).toBe(200);
  return res.body as { enabled: boolean; disabledReason: string | null };
}

describe("a removed admin's webhook endpoint", () => {
  it('stops in the removal: not even the member.removed event reaches it, the org’s own endpoint gets it', async () => {
    const org = await createOrg(app, owner);
    const admin = await newUser(app, 'rogue-admin');
    await grantMembership(app, org.id, admin.userId, 'admin');
    const id = await addEndpoint(org.id, admin, theirUrl);
    await addEndpoint(org.id, owner, ourUrl);
    await app.settle();
    theirs.reset();
    ours.reset();

    const removed = await app.request('DELETE', `/api/orgs/${org.id}/members/${admin.userId}`, {
      token: owner.token,
    });
    expect(removed.status, removed.text).toBe(204);
    await orgEvent(org.id);
    expect(ours.received.map((r) => JSON.parse(r.body).type)).toEqual(['member.removed', 'policy.updated']);
    expect(theirs.received).toEqual([]);
    expect(await endpoint(org.id, id)).toMatchObject({ enabled: false, disabledReason: 'creator_removed' });
    const audit = (await orgAudit(app, org.id)).find((row) => row.action === 'member.removed');
    expect(audit?.metadata).toMatchObject({ webhooksDisabled: [id] });
  });

  it('stops when its admin is demoted to member, and not when an owner is made an admin', async () => {
    const org = await createOrg(app, owner);
    const admin = await newUser(app, 'demoted-admin');
    const coOwner = await newUser(app, 'co-owner');
    await grantMembership(app, org.id, admin.userId, 'admin');
    await grantMembership(app, org.id, coOwner.userId, 'owner');
    const adminEndpoint = await addEndpoint(org.id, admin, theirUrl);
    const ownerEndpoint = await addEndpoint(org.id, coOwner, ourUrl);
    for (const [userId, role] of [
      [admin.userId, 'member'],
      [coOwner.userId, 'admin'],
    ] as const) {
      const res = await app.request('PATCH', `/api/orgs/${org.id}/members/${userId}`, {
        token: owner.token,
        body: { role },
      });
      expect(res.status, res.text).toBe(200);
    }
    await app.settle();
    theirs.reset();
    ours.reset();
    await orgEvent(org.id);
    expect(theirs.received).toEqual([]);
    expect(ours.received).toHaveLength(1);
    expect(await endpoint(org.id, adminEndpoint)).toMatchObject({
      enabled: false,
      disabledReason: 'creator_removed',
    });
    expect((await endpoint(org.id, ownerEndpoint)).enabled).toBe(true);
  });

  it('gets nothing once its admin’s membership lapsed, until a current admin turns it on and so takes it over', async () => {
    const org = await createOrg(app, owner);
    const contractor = await newUser(app, 'contractor');
    await grantMembership(
      app,
      org.id,
      contractor.userId,
      'admin',
      new Date(clock.now().getTime() + 10 * MINUTE_MS),
    );
    const id = await addEndpoint(org.id, contractor, theirUrl);
    await app.settle();
    theirs.reset();
    await orgEvent(org.id);
    expect(theirs.received).toHaveLength(1);

    clock.advance(11 * MINUTE_MS);
    theirs.reset();
    await orgEvent(org.id);
    expect(theirs.received).toEqual([]);

    await stepUp(app, owner);
    const turnedOn = await app.request('PATCH', `/api/orgs/${org.id}/webhooks/${id}`, {
      token: owner.token,
      body: { enabled: true },
    });
    expect(turnedOn.status, turnedOn.text).toBe(200);
    await app.settle();
    theirs.reset();
    await orgEvent(org.id);
    expect(theirs.received.map((r) => JSON.parse(r.body).type)).toEqual(['policy.updated']);
  });
});
