import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
import { type Received, WebhookReceiver } from '../helpers/webhook-receiver.js';
import '../../shared/webhooks/tables.js';

let app: TestApp;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let otherAdmin: TestUser;
let orgId: string;
let otherOrgId: string;
const receivers = {
  standard: new WebhookReceiver(),
  splunk: new WebhookReceiver(),
  datadog: new WebhookReceiver(),
  sumo: new WebhookReceiver(),
};
const urls: Record<keyof typeof receivers, string> = { standard: '', splunk: '', datadog: '', sumo: '' };

beforeAll(async () => {
  app = await startTestApp({ env: orgTestEnv });
  owner = await newUser(app, 'owner');
  orgId = (await createOrg(app, owner)).id;
  admin = await newUser(app, 'admin');
  member = await newUser(app, 'member');
  await grantMembership(app, orgId, admin.userId, 'admin');
  await grantMembership(app, orgId, member.userId, 'member');
  otherAdmin = await newUser(app, 'other');
  otherOrgId = (await createOrg(app, otherAdmin)).id;
  urls.standard = await receivers.standard.start('/hooks/standard');
  urls.splunk = await receivers.splunk.start('/services/collector/event');
  urls.datadog = await receivers.datadog.start('/api/v2/logs');
  urls.sumo = await receivers.sumo.start('/receiver/v1/http/abc');
});
afterAll(async () => {
  for (const r of Object.values(receivers)) await r.stop();
  await app?.stop();
});
beforeEach(async () => {
  for (const r of Object.values(receivers)) r.reset();
  // Each test starts without endpoints, so one test's events never reach another's receiver.
  await app.runtime.platform.db.deleteFrom('webhook_endpoints').execute();
  await stepUp(app, admin);
  await stepUp(app, otherAdmin);
});

async function addEndpoint(body: Record<string, unknown>, token = admin.token, inOrg = orgId) {
  return app.request('POST', `/api/orgs/${inOrg}/webhooks`, { token, body });
}

/** An org change that appends `policy.updated` to the org's audit chain. */
async function changePolicy() {
  const changed = await app.request('PATCH', `/api/orgs/${orgId}/policy`, {
    token: admin.token,
    body: { requireMfa: false },
  });
  expect(changed.status, changed.text).toBe(200);
  await app.settle();
}

function verifyWith(secret: string, got: Received) {
  return new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as Record<
    string,
    unknown
  >;
}

describe('endpoints', () => {
  it('an admin adds an endpoint after a step-up; the whsec_ secret is shown once and signs each delivery', async () => {
    const created = await addEndpoint({
      url: urls.standard,
      events: ['policy.updated'],
      description: 'SIEM',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      url: urls.standard,
      events: ['policy.updated'],
      format: 'standard',
      enabled: true,
      headerNames: [],
    });
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);

    const listed = await app.request('GET', `/api/orgs/${orgId}/webhooks`, { token: admin.token });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(secret.slice(6));
    expect(listed.body.webhooks[0]).not.toHaveProperty('secret');

    await changePolicy();
    await receivers.standard.waitFor(1);
    const got = receivers.standard.received[0] as Received;
    const verified = verifyWith(secret, got);
    expect(verified).toMatchObject({
      type: 'policy.updated',
      data: { orgId, actor: { type: 'user', id: admin.userId } },
    });
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('adding, changing, deleting and rotating need a step-up (403 STEP_UP_REQUIRED)', async () => {
    const plain = await newUser(app, 'plain-admin');
    await grantMembership(app, orgId, plain.userId, 'admin');
    const added = await addEndpoint({ url: urls.standard, events: ['*'] }, plain.token);
    expectError(added, 403, 'STEP_UP_REQUIRED');
    const id = (await addEndpoint({ url: urls.standard, events: ['*'] })).body.id;
    for (const [method, path, body] of [
      ['PATCH', `/api/orgs/${orgId}/webhooks/${id}`, { enabled: false }],
      ['DELETE', `/api/orgs/${orgId}/webhooks/${id}`, undefined],
      ['POST', `/api/orgs/${orgId}/webhooks/${id}/rotate-secret`, undefined],
    ] as const) {
      expectError(
        await app.request(method, path, { token: plain.token, ...(body ? { body } : {}) }),
        403,
        'STEP_UP_REQUIRED',
      );
    }
  });

  it('a member gets 403, another org 404, and an endpoint id of this org is 404 from the other org', async () => {
    const id = (await addEndpoint({ url: urls.standard, events: ['*'] })).body.id;
    expectError(
      await app.request('GET', `/api/orgs/${orgId}/webhooks`, { token: member.token }),
      403,
      'INSUFFICIENT_ROLE',
    );
    expectError(
      await app.request('GET', `/api/orgs/${orgId}/webhooks`, { token: otherAdmin.token }),
      404,
      'NOT_FOUND',
    );
    for (const [method, path] of [
      ['GET', `/api/orgs/${otherOrgId}/webhooks/${id}`],
      ['GET', `/api/orgs/${otherOrgId}/webhooks/${id}/deliveries`],
      ['POST', `/api/orgs/${otherOrgId}/webhooks/${id}/test`],
      ['POST', `/api/orgs/${otherOrgId}/webhooks/${id}/rotate-secret`],
      ['DELETE', `/api/orgs/${otherOrgId}/webhooks/${id}`],
    ] as const) {
      expectError(await app.request(method, path, { token: otherAdmin.token }), 404, 'NOT_FOUND');
    }
    const still = await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}`, { token: admin.token });
    expect(still.status).toBe(200);
  });

  it('a removed admin can no longer read the endpoints or their deliveries', async () => {
    const leaving = await newUser(app, 'leaving-admin');
    await grantMembership(app, orgId, leaving.userId, 'admin');
    const id = (await addEndpoint({ url: urls.standard, events: ['*'] })).body.id;
    const before = await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries`, {
      token: leaving.token,
    });
    expect(before.status).toBe(200);
    const removed = await app.request('DELETE', `/api/orgs/${orgId}/members/${leaving.userId}`, {
      token: owner.token,
    });
    expect(removed.status, removed.text).toBe(204);
    // Their own sign-in goes on elsewhere; in this org they are nobody now.
    expectError(
      await app.request('GET', `/api/orgs/${orgId}/webhooks`, { token: leaving.token }),
      404,
      'NOT_FOUND',
    );
    expectError(
      await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries`, { token: leaving.token }),
      404,
      'NOT_FOUND',
    );
  });

  it('refuses bad input with 400 and says which field', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ url: 'ftp://example.com/x', events: ['*'] }, 'url'],
      [{ url: 'https://user:pw@example.com/x', events: ['*'] }, 'url'],
      [{ url: urls.standard, events: [] }, 'events'],
      [{ url: urls.standard, events: ['no.such_event'] }, 'events.0'],
      [{ url: urls.standard, events: ['*'], format: 'syslog' }, 'format'],
      [
        { url: urls.standard, events: ['*'], headers: { 'webhook-signature': 'v1,forged' } },
        'headers.webhook-signature',
      ],
      [
        { url: urls.standard, events: ['*'], headers: { Authorization: 'line\nbreak' } },
        'headers.Authorization',
      ],
      [{ url: urls.standard, events: ['*'], secret: 'whsec_mine' }, ''],
    ];
    for (const [body, path] of bad) {
      const answer = await addEndpoint(body);
      expectError(answer, 400, 'VALIDATION_FAILED');
      if (path)
        expect(
          answer.body.error.issues.map((i: { path: string }) => i.path),
          JSON.stringify(body),
        ).toContain(path);
    }
  });

  it('an org has at most 20 endpoints: one admin cannot make every event fan out without bound', async () => {
    const made = await Promise.all(
      Array.from({ length: 22 }, () => addEndpoint({ url: urls.standard, events: ['webhook.test'] })),
    );
    expect(made.filter((r) => r.status === 201)).toHaveLength(20);
    for (const refused of made.filter((r) => r.status !== 201)) expectError(refused, 409, 'CONFLICT');
  });

  it('updates, disables and deletes an endpoint; a disabled or deleted endpoint gets nothing', async () => {
    const id = (await addEndpoint({ url: urls.standard, events: ['policy.updated'] })).body.id;
    const off = await app.request('PATCH', `/api/orgs/${orgId}/webhooks/${id}`, {
      token: admin.token,
      body: { enabled: false, description: 'paused' },
    });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, disabledReason: 'admin', description: 'paused' });
    await changePolicy();
    expect(receivers.standard.received).toEqual([]);
    const gone = await app.request('DELETE', `/api/orgs/${orgId}/webhooks/${id}`, { token: admin.token });
    expect(gone.status).toBe(204);
    expectError(
      await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}`, { token: admin.token }),
      404,
      'NOT_FOUND',
    );
    await changePolicy();
    expect(receivers.standard.received).toEqual([]);
  });
});

describe('SIEM formats', () => {
  it('Splunk HEC, Datadog and Sumo Logic each get their intake shape with their token header, signed too; the tokens are never shown again', async () => {
    const splunk = await addEndpoint({
      url: urls.splunk,
      events: ['policy.updated'],
      format: 'splunk-hec',
      headers: { Authorization: 'Splunk 11111111-2222-3333-4444-555555555555' },
    });
    const datadog = await addEndpoint({
      url: urls.datadog,
      events: ['*'],
      format: 'datadog',
      headers: { 'DD-API-KEY': 'dd-secret-api-key' },
    });
    const sumo = await addEndpoint({ url: urls.sumo, events: ['policy.updated'], format: 'sumo' });
    for (const created of [splunk, datadog, sumo]) expect(created.status, created.text).toBe(201);
    expect(splunk.body.headerNames).toEqual(['Authorization']);
    expect(splunk.text).not.toContain('11111111-2222');
    const shown = await app.request('GET', `/api/orgs/${orgId}/webhooks`, { token: admin.token });
    expect(shown.text).not.toContain('11111111-2222');
    expect(shown.text).not.toContain('dd-secret-api-key');
    const audit = await app.runtime.platform.db
      .selectFrom('audit_logs')
      .select('metadata')
      .where('action', '=', 'webhook.created')
      .execute();
    expect(JSON.stringify(audit)).not.toContain('dd-secret-api-key');

    await changePolicy();
    await Promise.all([receivers.splunk.waitFor(1), receivers.datadog.waitFor(1), receivers.sumo.waitFor(1)]);

    const s = receivers.splunk.received[0] as Received;
    expect(s.headers.authorization).toBe('Splunk 11111111-2222-3333-4444-555555555555');
    const hec = JSON.parse(s.body);
    expect(hec).toEqual({
      time: expect.any(Number),
      host: expect.any(String),
      source: 'sessionforge',
      sourcetype: '_json',
      event: expect.objectContaining({ type: 'policy.updated', orgId, webhookId: s.headers['webhook-id'] }),
    });
    expect(Math.abs(hec.time * 1000 - Date.now())).toBeLessThan(60_000);
    verifyWith(splunk.body.secret, s);

    // Datadog receives every event it asked for ('*'): the policy change, after its own creation's siblings.
    const d = receivers.datadog.received.find(
      (r) => JSON.parse(r.body)[0]?.message === 'policy.updated',
    ) as Received;
    expect(d.headers['dd-api-key']).toBe('dd-secret-api-key');
    const entries = JSON.parse(d.body);
    expect(entries).toEqual([
      expect.objectContaining({
        ddsource: 'sessionforge',
        service: 'sessionforge',
        hostname: expect.any(String),
        message: 'policy.updated',
        ddtags: 'event_type:policy.updated',
        type: 'policy.updated',
        orgId,
      }),
    ]);
    verifyWith(datadog.body.secret, d);

    const u = receivers.sumo.received[0] as Received;
    const lines = u.body.split('\n').filter((l) => l.length > 0);
    expect(u.body.endsWith('\n')).toBe(true);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ type: 'policy.updated', orgId }),
    ]);
    verifyWith(sumo.body.secret, u);
  });
});

describe('rotation, test and retry', () => {
  it('after a rotation both the new and the previous secret verify the same delivery', async () => {
    const created = await addEndpoint({ url: urls.standard, events: ['policy.updated'] });
    const old: string = created.body.secret;
    const rotated = await app.request(
      'POST',
      `/api/orgs/${orgId}/webhooks/${created.body.id}/rotate-secret`,
      {
        token: admin.token,
      },
    );
    expect(rotated.status, rotated.text).toBe(200);
    const fresh: string = rotated.body.secret;
    expect(fresh).not.toBe(old);
    expect(new Date(rotated.body.previousSecretValidUntil).getTime()).toBeGreaterThan(
      Date.now() + 23 * 3_600_000,
    );
    await changePolicy();
    await receivers.standard.waitFor(1);
    const got = receivers.standard.received[0] as Received;
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyWith(fresh, got)).toMatchObject({ type: 'policy.updated' });
    expect(verifyWith(old, got)).toMatchObject({ type: 'policy.updated' });
  });

  it('test sends webhook.test (202); the log shows status, code, duration and payload; retry resends with the same webhook-id', async () => {
    const { id } = (await addEndpoint({ url: urls.standard, events: ['policy.updated'] })).body;
    const test = await app.request('POST', `/api/orgs/${orgId}/webhooks/${id}/test`, { token: admin.token });
    expect(test.status, test.text).toBe(202);
    await app.settle();
    await receivers.standard.waitFor(1);
    expect(JSON.parse((receivers.standard.received[0] as Received).body).type).toBe('webhook.test');
    const log = await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries`, {
      token: admin.token,
    });
    expect(log.status).toBe(200);
    const [delivery] = log.body.deliveries;
    expect(delivery).toMatchObject({
      id: test.body.deliveryId,
      type: 'webhook.test',
      status: 'delivered',
      attempt: 1,
      responseStatus: 200,
      durationMs: expect.any(Number),
      nextAttemptAt: null,
    });
    expect(delivery.payloadPreview).toContain('"webhook.test"');
    expect(log.body.nextCursor).toBeNull();

    const retried = await app.request(
      'POST',
      `/api/orgs/${orgId}/webhooks/${id}/deliveries/${delivery.id}/retry`,
      {
        token: admin.token,
      },
    );
    expect(retried.status, retried.text).toBe(202);
    await app.settle();
    await receivers.standard.waitFor(2);
    expect(receivers.standard.received.map((r) => r.headers['webhook-id'])).toEqual([
      delivery.id,
      delivery.id,
    ]);
    const again = await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries`, {
      token: admin.token,
    });
    expect(again.body.deliveries[0].attempts).toHaveLength(2);

    expectError(
      await app.request(
        'POST',
        `/api/orgs/${orgId}/webhooks/${id}/deliveries/00000000-0000-4000-8000-000000000000/retry`,
        {
          token: admin.token,
        },
      ),
      404,
      'NOT_FOUND',
    );
    expectError(
      await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries?cursor=bogus`, {
        token: admin.token,
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('pages the delivery log with keyset cursors, newest first', async () => {
    const { id } = (await addEndpoint({ url: urls.standard, events: ['policy.updated'] })).body;
    for (let i = 0; i < 55; i++)
      await app.request('POST', `/api/orgs/${orgId}/webhooks/${id}/test`, { token: admin.token });
    await app.settle();
    const first = await app.request('GET', `/api/orgs/${orgId}/webhooks/${id}/deliveries`, {
      token: admin.token,
    });
    expect(first.body.deliveries).toHaveLength(50);
    const second = await app.request(
      'GET',
      `/api/orgs/${orgId}/webhooks/${id}/deliveries?cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { token: admin.token },
    );
    expect(second.body.deliveries).toHaveLength(5);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.deliveries, ...second.body.deliveries].map((d: { id: string }) => d.id);
    expect(new Set(ids).size).toBe(55);
  });
});

describe('events that belong to the org', () => {
  it("sign-ins of accounts at the org's verified domain reach it; a member's sign-in elsewhere does not", async () => {
    const domain = `wh-${Date.now()}.test`;
    const now = app.runtime.platform.clock.now();
    await app.runtime.platform.db
      .insertInto('org_domains')
      .values({ org_id: orgId, domain, txt_token: 't', verified_at: now, created_by: null, created_at: now })
      .execute();
    await addEndpoint({ url: urls.standard, events: ['login.succeeded'] });
    await app.signupVerifiedAndLogin(`someone@${domain}`);
    await app.settle();
    await newUser(app, 'elsewhere'); // example.com: not the org's domain
    await app.settle();
    await receivers.standard.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receivers.standard.received).toHaveLength(1);
    expect(JSON.parse((receivers.standard.received[0] as Received).body)).toMatchObject({
      type: 'login.succeeded',
    });
  });
});

describe('org deletion', () => {
  it('deleting the org stops its endpoints at once, and the purge deletes them', async () => {
    const doomedOwner = await newUser(app, 'doomed');
    const org = await createOrg(app, doomedOwner);
    await stepUp(app, doomedOwner);
    const created = await addEndpoint({ url: urls.standard, events: ['*'] }, doomedOwner.token, org.id);
    expect(created.status).toBe(201);
    await app.settle();
    receivers.standard.reset();
    const deleted = await app.request('DELETE', `/api/orgs/${org.id}`, {
      token: doomedOwner.token,
      body: { confirmSlug: org.slug },
    });
    expect(deleted.status, deleted.text).toBe(202);
    await app.settle();
    const row = await app.runtime.platform.db
      .selectFrom('webhook_endpoints')
      .select(['enabled', 'disabled_reason'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ enabled: false, disabled_reason: 'org_deleted' });
    expect(receivers.standard.received).toEqual([]);
    const { orgDataToPurge } = await import('../../shared/orgs/deletion.js');
    await app.runtime.platform.db.transaction().execute(async (tx) => {
      expect(await orgDataToPurge.webhookEndpoints?.(tx, org.id)).toBe(1);
    });
  });
});

describe('contract', () => {
  it('documents every webhook route in the OpenAPI document, secrets only in the create and rotate answers', async () => {
    const doc = await app.request('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    const paths = doc.body.paths as Record<string, Record<string, any>>;
    const base = '/api/orgs/{orgId}/webhooks';
    expect(Object.keys(paths[base] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths[`${base}/{id}`] ?? {}).sort()).toEqual(['delete', 'get', 'patch']);
    for (const path of ['/rotate-secret', '/test', '/deliveries/{deliveryId}/retry']) {
      expect(paths[`${base}/{id}${path}`]?.post, path).toBeDefined();
    }
    expect(paths[`${base}/{id}/deliveries`]?.get).toBeDefined();
    const schemaOf = (op: any, status: string) => JSON.stringify(op?.responses?.[status]?.content ?? {});
    expect(schemaOf(paths[base]?.post, '201')).toContain('secret');
    expect(schemaOf(paths[`${base}/{id}`]?.get, '200')).not.toContain('"secret"');
  });
});
