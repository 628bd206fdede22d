import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertOrg, openTestDatabase } from '../../tests/helpers/db.js';
import { type Received, WebhookReceiver as Receiver } from '../../tests/helpers/webhook-receiver.js';
import { appendAudit } from '../audit/append.js';
import type { KeyRing } from '../crypto/seal.js';
import type { DbHandle } from '../db/connect.js';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import { createOutboundFetch, type Resolver } from '../outbound/client.js';
import { DAY_MS, FakeClock, SECOND_MS } from '../time/clock.js';
import { WebhookDeliverer } from './deliverer.js';
import { RETRY_DELAYS_MS } from './model.js';
import { WebhookService } from './service.js';
import '../bus/tables.js';
import '../accounts/tables.js';
import '../orgs/tables.js';

const logger = createLogger('silent');
const metrics = createMetrics(logger);
const ring: KeyRing = { currentKeyId: 't1', keys: new Map([['t1', randomBytes(32)]]) };
const clock = new FakeClock('2026-05-01T10:00:00Z');

let database: DbHandle;
let orgId: string;
let receiver: Receiver;
let url: string;
let service: WebhookService;

function deliverer(
  options: { timeoutMs?: number; concurrency?: number; allowPrivate?: boolean; resolve?: Resolver } = {},
) {
  return new WebhookDeliverer({
    db: database.db,
    keys: async () => ring,
    fetch: createOutboundFetch({
      allowPrivate: options.allowPrivate ?? true,
      ...(options.resolve ? { resolve: options.resolve } : {}),
      allowHttp: true,
      logger,
      timeoutMs: options.timeoutMs ?? 2000,
      maxResponseBytes: 64 * 1024,
      overflow: 'truncate',
    }),
    now: () => clock.now(),
    logger,
    metrics,
    mailKeys: async () => ring,
    appUrl: 'http://localhost:8080',
    concurrency: options.concurrency ?? 4,
    host: 'localhost',
  });
}

const actor = { userId: randomUUID(), ip: null };

async function endpoint(target = url, events = ['policy.updated']) {
  const created = await service.create(
    orgId,
    { url: target, events, format: 'standard' },
    actor,
    clock.now(),
  );
  if (!created.ok) throw new Error(created.message);
  return created;
}

/** One audit row for the org, appended and committed (its deliveries queued with it). */
async function auditEvent(action: 'policy.updated' | 'member.invited' = 'policy.updated') {
  await database.db
    .transaction()
    .execute((tx) =>
      appendAudit(tx, { orgId, action, actor: { type: 'system', id: null }, now: clock.now() }),
    );
}

async function deliveriesOf(endpointId: string) {
  return database.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('type', '!=', 'webhook.created')
    .orderBy('created_at')
    .execute();
}

async function attemptsOf(deliveryId: string) {
  return database.db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .orderBy('attempt')
    .execute();
}

beforeAll(async () => {
  database = await openTestDatabase();
  orgId = await insertOrg(database.db, { slug: `wh-${randomUUID().slice(0, 8)}`, now: clock.now() });
  await database.db
    .insertInto('users')
    .values({
      id: actor.userId,
      email: 'admin@example.com',
      email_normalized: 'admin@example.com',
      name: 'Admin',
    })
    .execute();
  await database.db
    .insertInto('memberships')
    .values({
      org_id: orgId,
      user_id: actor.userId,
      role: 'admin',
      expires_at: null,
      created_at: clock.now(),
    })
    .execute();
  receiver = new Receiver();
  url = await receiver.start();
  service = new WebhookService({
    db: database.db,
    keys: async () => ring,
    urlPolicy: { allowPrivate: true, allowHttp: true },
  });
});
afterAll(async () => {
  await receiver?.stop();
  await database?.close();
});
beforeEach(async () => {
  receiver.reset();
  await database.db.deleteFrom('webhook_endpoints').execute();
  await database.db.deleteFrom('outbox').execute();
});

describe('delivery and signature', () => {
  it('sends a committed audit row signed per Standard Webhooks and records the attempt as delivered', async () => {
    const { endpoint: ep, secret } = await endpoint(url, ['policy.updated']);
    await auditEvent('member.invited'); // not asked for
    await auditEvent('policy.updated');
    const [delivery] = await deliveriesOf(ep.id);
    expect(delivery).toBeDefined();
    expect(await deliverer().deliver(delivery?.id as string)).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0] as Received;
    expect(got.headers['webhook-id']).toBe(delivery?.id);
    // standardwebhooks' verify also checks the timestamp against the real clock (the fake one is
    // months behind), so the signature is checked against the library's own sign of the same input.
    const timestamp = new Date(Number(got.headers['webhook-timestamp']) * 1000);
    expect(timestamp).toEqual(clock.now());
    expect(got.headers['webhook-signature']).toBe(
      new Webhook(secret).sign(delivery?.id as string, timestamp, got.body),
    );
    expect(JSON.parse(got.body)).toMatchObject({ type: 'policy.updated', data: { orgId } });
    const [attempt] = await attemptsOf(delivery?.id as string);
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'delivered', response_status: 200, error: null });
    expect((await deliveriesOf(ep.id))[0]?.status).toBe('delivered');
  });

  it('a change that rolls back queues nothing and sends nothing', async () => {
    const { endpoint: ep } = await endpoint();
    await expect(
      database.db.transaction().execute(async (tx) => {
        await appendAudit(tx, {
          orgId,
          action: 'policy.updated',
          actor: { type: 'system', id: null },
          now: clock.now(),
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await deliveriesOf(ep.id)).toEqual([]);
    expect(
      await database.db.selectFrom('outbox').select('id').where('topic', '=', 'webhook-deliveries').execute(),
    ).toEqual([]);
    expect(await deliverer().sweep()).toBe(0);
    expect(receiver.received).toEqual([]);
  });
});

describe('retries', () => {
  const retryable: Array<[string, (req: IncomingMessage, res: ServerResponse) => void]> = [
    ['500', (_req, res) => res.writeHead(500).end()],
    ['429', (_req, res) => res.writeHead(429).end()],
    ['a timeout', () => {}],
  ];
  for (const [label, answer] of retryable) {
    it(`${label} is retried on schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with the same webhook-id, then fails`, async () => {
      receiver.answer = answer;
      const { endpoint: ep } = await endpoint();
      await auditEvent();
      const [delivery] = await deliveriesOf(ep.id);
      const d = deliverer({ timeoutMs: label === 'a timeout' ? 300 : 5000 });
      await d.deliver(delivery?.id as string);
      for (const delay of RETRY_DELAYS_MS) {
        const row = (await deliveriesOf(ep.id))[0];
        expect(row?.status).toBe('pending');
        expect(row?.next_attempt_at?.getTime()).toBe(clock.now().getTime() + delay);
        clock.advance(delay - SECOND_MS);
        expect(await d.sweep()).toBe(0); // not yet due
        clock.advance(SECOND_MS);
        expect(await d.sweep()).toBe(1);
      }
      const attempts = await attemptsOf(delivery?.id as string);
      expect(attempts.map((a) => a.outcome)).toEqual([...RETRY_DELAYS_MS.map(() => 'retrying'), 'failed']);
      expect(attempts.map((a) => a.response_status)).toEqual(
        attempts.map(() => (label === 'a timeout' ? null : Number(label))),
      );
      if (label === 'a timeout') expect(attempts[0]?.error).toBe('timed out');
      expect((await deliveriesOf(ep.id))[0]?.status).toBe('failed');
      const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
      expect(ids).toEqual(new Set([delivery?.id]));
      expect(receiver.received).toHaveLength(RETRY_DELAYS_MS.length + 1);
    }, 30_000);
  }

  it('connection refused is retried with the same webhook-id', async () => {
    const closed = new Receiver();
    const closedUrl = await closed.start();
    await closed.stop();
    const { endpoint: ep } = await endpoint(closedUrl);
    await auditEvent();
    const [delivery] = await deliveriesOf(ep.id);
    await deliverer().deliver(delivery?.id as string);
    const [first] = await attemptsOf(delivery?.id as string);
    expect(first).toMatchObject({ outcome: 'retrying', response_status: null, error: 'could not connect' });
    // The receiver comes back on the same URL: the retry carries the same id.
    await database.db.updateTable('webhook_endpoints').set({ url }).where('id', '=', ep.id).execute();
    clock.advance(5 * SECOND_MS);
    expect(await deliverer().sweep()).toBe(1);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([delivery?.id]);
    expect((await deliveriesOf(ep.id))[0]?.status).toBe('delivered');
  });

  it('400 fails at once, without a retry', async () => {
    receiver.answer = (_req, res) => res.writeHead(400).end('bad');
    const { endpoint: ep } = await endpoint();
    await auditEvent();
    const [delivery] = await deliveriesOf(ep.id);
    await deliverer().deliver(delivery?.id as string);
    expect(await attemptsOf(delivery?.id as string)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'failed', response_status: 400 }),
    ]);
    const row = (await deliveriesOf(ep.id))[0];
    expect(row).toMatchObject({ status: 'failed', next_attempt_at: null });
    clock.advance(DAY_MS);
    expect(await deliverer().sweep()).toBe(0);
  });

  it('a redirect is not followed and fails at once', async () => {
    const target = new Receiver();
    const targetUrl = await target.start();
    receiver.answer = (_req, res) => res.writeHead(302, { location: targetUrl }).end();
    const { endpoint: ep } = await endpoint();
    await auditEvent();
    const [delivery] = await deliveriesOf(ep.id);
    await deliverer().deliver(delivery?.id as string);
    expect(target.received).toEqual([]);
    await target.stop();
    expect(await attemptsOf(delivery?.id as string)).toEqual([
      expect.objectContaining({ outcome: 'failed', response_status: 302, error: 'redirect not followed' }),
    ]);
  });
});

describe('outbound refusals when private addresses are not allowed', () => {
  // The URL passed the check when it was saved; the address policy is applied again at each
  // delivery (DNS can change), before any connection is made: nothing below is ever contacted.
  const hostile: Resolver = async (name) =>
    name === 'rebound.example.com' ? [{ address: '10.9.8.7', family: 4 }] : [];
  const targets = [
    () => url, // loopback, where the receiver listens
    () => 'http://10.0.0.1/hook',
    () => 'http://169.254.169.254/latest/meta-data',
    () => 'http://[::1]/hook',
    () => 'http://[fd00::1]/hook',
    () => 'http://[::ffff:10.0.0.1]/hook',
    () => 'http://rebound.example.com/hook',
  ];
  for (const target of targets) {
    it(`refuses ${target()} without connecting, and fails the delivery at once`, async () => {
      const { endpoint: ep } = await endpoint();
      await database.db
        .updateTable('webhook_endpoints')
        .set({ url: target() })
        .where('id', '=', ep.id)
        .execute();
      await auditEvent();
      const [delivery] = await deliveriesOf(ep.id);
      await deliverer({ allowPrivate: false, resolve: hostile }).deliver(delivery?.id as string);
      // A host name that resolves inside is logged as one that does not resolve (attacks.test.ts).
      const byName = target().includes('rebound');
      expect(await attemptsOf(delivery?.id as string)).toEqual([
        expect.objectContaining(
          byName
            ? { outcome: 'retrying', response_status: null, error: 'could not connect' }
            : { outcome: 'failed', response_status: null, error: 'address not allowed' },
        ),
      ]);
      expect(receiver.received).toEqual([]);
    });
  }
});

describe('failing endpoints', () => {
  it('an endpoint failing for 5 days is disabled, audited, and its admins are mailed; a success before that resets the clock', async () => {
    receiver.answer = (_req, res) => res.writeHead(503).end();
    const { endpoint: ep } = await endpoint(url, ['policy.updated']);
    const d = deliverer();
    const fail = async () => {
      await auditEvent();
      const pending = (await deliveriesOf(ep.id)).filter((r) => r.status === 'pending' && r.attempts === 0);
      for (const row of pending) await d.deliver(row.id);
    };
    await fail();
    const started = clock.now();
    clock.advance(3 * DAY_MS);
    await fail();
    let row = await database.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', ep.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ enabled: true, failing_since: started });
    clock.advance(2 * DAY_MS);
    await fail();
    row = await database.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', ep.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ enabled: false, disabled_reason: 'failing' });
    const audit = await database.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('action', '=', 'webhook.disabled')
      .where('target_id', '=', ep.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor_type).toBe('system');
    const mails = await database.db
      .selectFrom('outbox')
      .select('topic')
      .where('topic', '=', 'mail-outbox')
      .execute();
    expect(mails).toHaveLength(1); // the org's one admin
    // Nothing more goes out to it, retries included.
    const before = receiver.received.length;
    clock.advance(DAY_MS);
    await auditEvent();
    expect(await d.sweep()).toBe(0);
    expect(receiver.received.length).toBe(before);
  });

  it('a success clears the failing run', async () => {
    receiver.answer = (_req, res) => res.writeHead(500).end();
    const { endpoint: ep } = await endpoint(url, ['policy.updated']);
    await auditEvent();
    const d = deliverer();
    await d.deliver((await deliveriesOf(ep.id))[0]?.id as string);
    receiver.answer = (_req, res) => res.writeHead(204).end();
    clock.advance(4 * DAY_MS);
    expect(await d.sweep()).toBe(1);
    const row = await database.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', ep.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ enabled: true, failing_since: null });
  });
});

describe('concurrency', () => {
  it('never has more than 4 deliveries in flight to one endpoint, across concurrent deliverers', async () => {
    const held: ServerResponse[] = [];
    receiver.answer = (_req, res) => {
      held.push(res);
      setTimeout(() => res.writeHead(200).end(), 50);
    };
    const { endpoint: ep } = await endpoint(url, ['policy.updated']);
    for (let i = 0; i < 20; i++) await auditEvent();
    const ids = (await deliveriesOf(ep.id)).map((r) => r.id);
    const a = deliverer();
    const b = deliverer();
    const sent = await Promise.all(ids.map((id, i) => (i % 2 ? a : b).deliver(id)));
    expect(sent.reduce((x, y) => x + y, 0)).toBe(20);
    expect(receiver.maxInFlight).toBeLessThanOrEqual(4);
    expect(receiver.maxInFlight).toBeGreaterThan(1);
    expect((await deliveriesOf(ep.id)).every((r) => r.status === 'delivered')).toBe(true);
  });
});
