import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepUp } from '../helpers/allowlist.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  createOrg,
  expectError,
  grantMembership,
  newUser,
  orgTestEnv,
  type TestUser,
} from '../helpers/orgs.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import '../../shared/webhooks/tables.js';

// A malicious org admin, or another org's admin, against the webhook routes.

let app: TestApp;
let admin: TestUser;
let otherAdmin: TestUser;
let orgId: string;
let otherOrgId: string;
const receiver = new WebhookReceiver();
let url = '';

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
  admin = await newUser(app, 'abuse-admin');
  orgId = (await createOrg(app, admin)).id;
  otherAdmin = await newUser(app, 'abuse-other');
  otherOrgId = (await createOrg(app, otherAdmin)).id;
  url = await receiver.start('/hooks');
  await stepUp(app, admin);
  await stepUp(app, otherAdmin);
});
afterAll(async () => {
  await receiver.stop();
  await app?.stop();
});

async function addEndpoint(token: string, inOrg: string, body: Record<string, unknown> = {}) {
  const created = await app.request('POST', `/api/orgs/${inOrg}/webhooks`, {
    token,
    body: { url, events: ['policy.updated'], ...body },
  });
  return created;
}

describe('the test and retry buttons', () => {
  it('are throttled per org: one admin cannot make us send without bound (100 per 15 minutes, then 429)', async () => {
    const { id } = (await addEndpoint(admin.token, orgId)).body;
    let accepted = 0;
    let limited: Awaited<ReturnType<TestApp['request']>> | null = null;
    for (let i = 0; i < 101; i++) {
      const sent = await app.request('POST', `/api/orgs/${orgId}/webhooks/${id}/test`, {
        token: admin.token,
      });
      if (sent.status === 202) accepted++;
      else {
        limited = sent;
        break;
      }
    }
    expect(accepted).toBe(100);
    expect(limited).not.toBeNull();
    expectError(limited as NonNullable<typeof limited>, 429, 'RATE_LIMITED');
    expect(Number((limited as NonNullable<typeof limited>).headers.get('retry-after'))).toBeGreaterThan(0);
    await app.settle();

    // Retrying shares the budget: it is the same "send now".
    const [delivery] = (
      await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries`, { token: admin.token })
    ).body.deliveries;
    expectError(
      await app.request('POST', `/api/orgs/${orgId}/webhooks/${id}/deliveries/${delivery.id}/retry`, {
        token: admin.token,
      }),
      429,
      'RATE_LIMITED',
    );

    // Another org's budget is its own.
    const other = (await addEndpoint(otherAdmin.token, otherOrgId)).body.id;
    const otherTest = await app.request('POST', `/api/orgs/${otherOrgId}/webhooks/${other}/test`, {
      token: otherAdmin.token,
    });
    expect(otherTest.status, otherTest.text).toBe(202);
    await app.settle();
  });
});

describe('another org', () => {
  it("cannot retry this org's delivery through its own endpoint id", async () => {
    await app.request('POST', '/api/dev/reset-limits', {});
    await app.runtime.platform.db.deleteFrom('webhook_endpoints').execute();
    const mine = (await addEndpoint(admin.token, orgId)).body.id;
    const theirs = (await addEndpoint(otherAdmin.token, otherOrgId)).body.id;
    const delivery = await app.runtime.platform.db
      .insertInto('webhook_deliveries')
      .values({
        id: crypto.randomUUID(),
        endpoint_id: mine,
        org_id: orgId,
        event_id: crypto.randomUUID(),
        type: 'policy.updated',
        payload: JSON.stringify({ type: 'policy.updated', timestamp: new Date().toISOString(), data: {} }),
        status: 'failed',
        next_attempt_at: null,
        created_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    receiver.reset();
    expectError(
      await app.request(
        'POST',
        `/api/orgs/${otherOrgId}/webhooks/${theirs}/deliveries/${delivery.id}/retry`,
        {
          token: otherAdmin.token,
        },
      ),
      404,
      'NOT_FOUND',
    );
    await app.settle();
    expect(receiver.received).toHaveLength(0);
  });
});

describe('provider headers', () => {
  it.each([
    ['webhook-signature', 'v1,forged'],
    ['Webhook-Id', 'x'],
    ['Host', 'internal.example'],
    ['Content-Length', '0'],
    ['Transfer-Encoding', 'chunked'],
    ['Connection', 'close'],
    ['X-Token', 'a\r\nHost: evil'],
    ['X Token', 'a'],
  ])('refuses %s: %s', async (name, value) => {
    const created = await addEndpoint(admin.token, orgId, { headers: { [name]: value } });
    expectError(created, 400, 'VALIDATION_FAILED');
  });
});

describe('a removed member', () => {
  it("whose personal session once acted in the org: its later sign-out is not sent to the org's endpoints", async () => {
    await app.runtime.platform.db.deleteFrom('webhook_endpoints').execute();
    const created = await addEndpoint(admin.token, orgId, { events: ['auth_session.revoked'] });
    expect(created.status, created.text).toBe(201);
    const leaver = await newUser(app, 'abuse-leaver');
    await grantMembership(app, orgId, leaver.userId, 'member');
    // Acting in the org with the personal session records its reach there.
    const acted = await app.request('GET', `/api/orgs/${orgId}/members`, { token: leaver.token });
    expect(acted.status, acted.text).toBe(200);
    const removed = await app.request('DELETE', `/api/orgs/${orgId}/members/${leaver.userId}`, {
      token: admin.token,
    });
    expect(removed.status, removed.text).toBe(204);
    await app.settle();
    receiver.reset();

    const out = await app.request('POST', '/api/login/logout', { token: leaver.token });
    expect(out.status, out.text).toBeLessThan(300);
    await app.settle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const leaked = receiver.received
      .map((r) => JSON.parse(r.body))
      .filter((e) => e.data?.actor?.id === leaver.userId);
    expect(leaked).toEqual([]);
  });

  it("whose session still acts in the org: its sign-out reaches the org's endpoints (the control)", async () => {
    await app.runtime.platform.db.deleteFrom('webhook_endpoints').execute();
    await addEndpoint(admin.token, orgId, { events: ['auth_session.revoked'] });
    const stayer = await newUser(app, 'abuse-stayer');
    await grantMembership(app, orgId, stayer.userId, 'member');
    await app.request('GET', `/api/orgs/${orgId}/members`, { token: stayer.token });
    receiver.reset();
    await app.request('POST', '/api/login/logout', { token: stayer.token });
    await app.settle();
    await receiver.waitFor(1);
    const sent = receiver.received.map((r) => JSON.parse(r.body));
    expect(sent.filter((e) => e.data?.actor?.id === stayer.userId)).toHaveLength(1);
  });
});
