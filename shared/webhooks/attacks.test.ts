import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertOrg, openTestDatabase } from '../../tests/helpers/db.js';
import { WebhookReceiver as Receiver } from '../../tests/helpers/webhook-receiver.js';
import type { KeyRing } from '../crypto/seal.js';
import type { DbHandle } from '../db/connect.js';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import { orgCredentialsToStop } from '../orgs/deletion.js';
import { createOutboundFetch, type Resolver } from '../outbound/client.js';
import { FakeClock } from '../time/clock.js';
import { WebhookDeliverer } from './deliverer.js';
import { WEBHOOK_OUTBOUND } from './model.js';
import { WebhookService } from './service.js';
import { checkEndpointUrl } from './url-check.js';
import '../bus/tables.js';
import '../orgs/tables.js';

// Attacks on the webhook deliverer by a malicious org admin, or against a deleted org.

const logger = createLogger('silent');
const metrics = createMetrics(logger);
const ring: KeyRing = { currentKeyId: 't1', keys: new Map([['t1', randomBytes(32)]]) };
const clock = new FakeClock('2026-05-01T10:00:00Z');
const actor = { userId: randomUUID(), ip: null };

let database: DbHandle;
let receiver: Receiver;
let url: string;
let service: WebhookService;

function deliverer(outbound: { allowPrivate: boolean; resolve?: Resolver } = { allowPrivate: true }) {
  return new WebhookDeliverer({
    db: database.db,
    keys: async () => ring,
    fetch: createOutboundFetch({ ...WEBHOOK_OUTBOUND, ...outbound, allowHttp: true, logger }),
    now: () => clock.now(),
    logger,
    metrics,
    mailKeys: async () => ring,
    appUrl: 'http://localhost:8080',
    concurrency: 4,
    host: 'localhost',
  });
}

/** A fresh org with one endpoint to `target` and a queued `webhook.test` delivery to it. */
async function queuedTest(prefix: string, events = ['policy.updated'], orgId?: string) {
  const org =
    orgId ??
    (await insertOrg(database.db, { slug: `${prefix}-${randomUUID().slice(0, 8)}`, now: clock.now() }));
  const created = await service.create(org, { url, events, format: 'standard' }, actor, clock.now());
  if (!created.ok) throw new Error(created.message);
  const queued = await service.sendTest(org, created.endpoint.id, actor, clock.now());
  if (!queued.ok) throw new Error(queued.message);
  return { orgId: org, endpointId: created.endpoint.id, deliveryId: queued.deliveryId };
}

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db
    .insertInto('users')
    .values({ id: actor.userId, email: 'a@example.com', email_normalized: 'a@example.com', name: 'A' })
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
beforeEach(() => receiver.reset());

describe('a deleted org', () => {
  it('a test delivery queued before the deletion is not sent after it', async () => {
    const { orgId, deliveryId } = await queuedTest('del', ['*']);
    // The org is deleted before the bus hands the delivery over (deletion.ts stops the endpoints).
    await database.db.transaction().execute(async (tx) => {
      await tx.updateTable('orgs').set({ deleted_at: clock.now() }).where('id', '=', orgId).execute();
      await orgCredentialsToStop.webhooks?.(tx, orgId, actor.userId, clock.now());
    });
    const d = deliverer();
    expect(await d.deliver(deliveryId)).toBe(0);
    expect(await d.sweep()).toBe(0);
    expect(receiver.received).toHaveLength(0);
  });
});

describe('the outbound address policy, through the endpoint check', () => {
  // IPv4-compatible (::/96) and other addresses outside 2000::/3 embed or reach inner addresses on
  // some stacks; only global unicast may pass.
  it.each([
    'https://[::127.0.0.1]/',
    'https://[::a9fe:a9fe]/',
    'https://[::10.0.0.1]/',
    'https://[::2]/',
    'https://[400::1]/',
  ])('refuses %s in production', async (target) => {
    expect(await checkEndpointUrl(target, { allowPrivate: false, allowHttp: false })).not.toBeNull();
  });

  it('refuses a host name whose AAAA answer is IPv4-compatible loopback', async () => {
    const resolve = async () => [{ address: '::7f00:1', family: 6 }];
    expect(
      await checkEndpointUrl('https://rebind.example/', { allowPrivate: false, allowHttp: false, resolve }),
    ).not.toBeNull();
  });
});

describe('log lines', () => {
  it('a refused or failed delivery does not log the URL path (Sumo Logic puts its token there)', async () => {
    const lines: string[] = [];
    const fetch = createOutboundFetch({
      ...WEBHOOK_OUTBOUND,
      allowPrivate: false,
      allowHttp: true,
      logger: createLogger('debug', (line) => lines.push(line)),
    });
    const token = 'ZaVnC4dhaV3HBMbwmNEfbkrDwwKUmJYW1rAxAM9QSdcXAvK5kWzTq';
    await expect(fetch(`http://127.0.0.1:9/receiver/v1/http/${token}`, { method: 'POST' })).rejects.toThrow();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(token);
  });
});

describe('the metadata service, embedded in IPv6', () => {
  it.each(['::a9fe:a9fe', '64:ff9b::a9fe:a9fe', '64:ff9b::169.254.169.254', '::ffff:0:a9fe:a9fe'])(
    'refuses %s even where private addresses are allowed (embedded mode)',
    async (address) => {
      const { checkAddress } = await import('../outbound/address-policy.js');
      expect(checkAddress(address, true).ok).toBe(false);
    },
  );
});

describe('the endpoint check as a map of internal DNS', () => {
  it('answers a name that resolves inside exactly as one that does not resolve', async () => {
    const zone: Record<string, string[]> = { 'db.internal.corp': ['10.1.2.3'] };
    const resolve = async (host: string) => {
      const found = zone[host];
      if (!found) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return found.map((address) => ({ address, family: 4 }));
    };
    const policy = { allowPrivate: false, allowHttp: false, resolve };
    const inside = await checkEndpointUrl('https://db.internal.corp/', policy);
    const nowhere = await checkEndpointUrl('https://nothing.internal.corp/', policy);
    expect(inside).not.toBeNull();
    expect(inside).toBe(nowhere);
  });

  it.each([
    'https://localhost./',
    'https://metadata.google.internal/',
    'https://2130706433/',
    'https://0x7f.1/',
    'https://017700000001/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://[fd00:ec2::254]/',
    'https://169.254.169.254/',
    'https://127.0.0.1\\@example.com/',
  ])('refuses %s with the real resolver', async (target) => {
    expect(await checkEndpointUrl(target, { allowPrivate: false, allowHttp: false })).not.toBeNull();
  });
});

describe('the delivery log as a map of internal DNS', () => {
  it('records a name that resolves inside exactly as one that does not resolve', async () => {
    const orgId = await insertOrg(database.db, { slug: `dns-${randomUUID().slice(0, 8)}`, now: clock.now() });
    const resolve = async (host: string) => {
      if (host === 'db.internal.test') return [{ address: '10.1.2.3', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const d = deliverer({ allowPrivate: false, resolve });
    const outcome = async (target: string) => {
      const { endpointId, deliveryId } = await queuedTest('dns', ['*'], orgId);
      // Saved while the name still resolved outside; it now resolves (or not) inside.
      await database.db
        .updateTable('webhook_endpoints')
        .set({ url: target })
        .where('id', '=', endpointId)
        .execute();
      await d.deliver(deliveryId);
      const log = await service.deliveries(orgId, endpointId, null);
      if (!log.ok) throw new Error(log.message);
      const [delivery] = log.deliveries.filter((x) => x.type === 'webhook.test');
      return { status: delivery?.status, error: delivery?.error, responseStatus: delivery?.responseStatus };
    };
    expect(await outcome('http://db.internal.test/hook')).toEqual(
      await outcome('http://nothing.internal.test/hook'),
    );
  });
});

describe('an endpoint deleted while a delivery to it is in flight', () => {
  it("does not fail the deliverer (a sweep serves other orgs' endpoints too)", async () => {
    const { orgId, endpointId, deliveryId } = await queuedTest('gone');
    receiver.answer = (_req, res) => {
      void service.delete(orgId, endpointId, actor, clock.now()).then(() => res.writeHead(200).end());
    };
    try {
      await expect(deliverer().deliver(deliveryId)).resolves.toBe(1);
    } finally {
      receiver.answer = (_req, res) => res.writeHead(200).end('ok');
    }
    expect(receiver.received).toHaveLength(1);
  });
});

describe('a hostile receiver', () => {
  it('that streams an endless answer is read up to 64 KiB and let go, not held to the deadline', async () => {
    const { orgId, endpointId, deliveryId } = await queuedTest('flood');
    let timer: NodeJS.Timeout | undefined;
    receiver.answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      timer = setInterval(() => {
        if (!res.destroyed) res.write(chunk);
      }, 1);
      res.on('close', () => clearInterval(timer));
    };
    const started = performance.now();
    try {
      await deliverer().deliver(deliveryId);
    } finally {
      clearInterval(timer);
      receiver.answer = (_req, res) => res.writeHead(200).end('ok');
    }
    expect(performance.now() - started).toBeLessThan(5_000);
    const log = await service.deliveries(orgId, endpointId, null);
    if (!log.ok) throw new Error(log.message);
    expect(log.deliveries[0]).toMatchObject({ status: 'delivered', responseStatus: 200 });
  });
});
