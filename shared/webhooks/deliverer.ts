import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Selectable, sql } from 'kysely';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { type KeyRing, open } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import { OutboundError, type OutboundFetch } from '../outbound/client.js';
import { DAY_MS } from '../time/clock.js';
import { headersContext, secretContext } from './keys.js';
import { attemptVerdict, DISABLE_AFTER_FAILING_MS, nextAttemptAt, shouldDisable, wireBody } from './model.js';
import { type SigningKey, signatureHeader, signers } from './signing.js';
import type { AttemptOutcome, WebhookDeliveriesTable, WebhookEndpointsTable } from './tables.js';
import './tables.js';
import '../orgs/tables.js';
import '../accounts/tables.js';

export interface DelivererDeps {
  db: Db;
  keys: () => Promise<KeyRing>;
  /** The outbound client with the webhook settings: 10 s, no redirects, 64 KiB read, address policy. */
  fetch: OutboundFetch;
  now: () => Date;
  logger: Logger;
  metrics: Metrics;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
  /** Deliveries in flight to one endpoint at once, across every instance (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** The `host` Splunk and Datadog entries name (the service's own host, from APP_URL). */
  host: string;
  /** A claimed delivery is held this long; a crashed deliverer's claim lapses after it. */
  leaseMs?: number;
}

type EndpointRow = Selectable<WebhookEndpointsTable>;
type DeliveryRow = Selectable<WebhookDeliveriesTable>;

interface Claimed {
  /** The endpoint as it was when this delivery was claimed. */
  endpoint: EndpointRow;
  delivery: DeliveryRow;
}

interface AttemptResult {
  responseStatus: number | null;
  durationMs: number;
  error: string | null;
  /** A refusal by our own outbound policy (address, redirect): retrying cannot help. */
  final: boolean;
}

const DEFAULT_LEASE_MS = 60_000;
const SWEEP_ENDPOINTS = 500;
const SWEEP_PARALLEL_ENDPOINTS = 16;

/**
 * Sends queued deliveries: claims one at a time per worker under the endpoint's row lock, so no
 * more than `concurrency` are in flight to an endpoint across instances; signs, posts, and records
 * the attempt with its outcome (delivered, retrying with the next due time, failed). An endpoint
 * failing without a success for five days is disabled, audited and its org's admins are mailed.
 */
export class WebhookDeliverer {
  readonly #signers = new Map<string, SigningKey[]>();

  constructor(private readonly deps: DelivererDeps) {}

  /** A delivery the bus handed over: send it (and whatever else is due for its endpoint) now. */
  async deliver(deliveryId: string): Promise<number> {
    const row = await this.deps.db
      .selectFrom('webhook_deliveries')
      .select(['endpoint_id', 'status'])
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    if (row?.status !== 'pending') return 0;
    return this.#work(row.endpoint_id, deliveryId);
  }

  /** The minute tick: every endpoint with deliveries due (retries, or ones a crashed instance held). */
  async sweep(): Promise<number> {
    const now = this.deps.now();
    const due = await this.deps.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select('d.endpoint_id')
      .distinct()
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<=', now)]))
      .where((eb) =>
        eb.or([
          eb('e.enabled', '=', true),
          eb.and([
            eb('d.type', '=', 'webhook.test'),
            eb('e.disabled_reason', 'is distinct from', 'org_deleted'),
          ]),
        ]),
      )
      .limit(SWEEP_ENDPOINTS)
      .execute();
    let sent = 0;
    const queue = due.map((r) => r.endpoint_id);
    const lanes = Array.from({ length: Math.min(SWEEP_PARALLEL_ENDPOINTS, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        sent += await this.#work(id, null);
      }
    });
    await Promise.all(lanes);
    return sent;
  }

  /**
   * One worker: claims what the endpoint's free slots allow (the named delivery first), sends
   * those at once, and goes on until nothing of this endpoint is due or its slots are taken.
   */
  async #work(endpointId: string, first: string | null): Promise<number> {
    let sent = 0;
    let specific = first;
    for (;;) {
      const claimed = await this.#claim(endpointId, specific, this.deps.now());
      specific = null;
      if (claimed.length === 0) return sent;
      await Promise.all(claimed.map((c) => this.#attempt(c)));
      sent += claimed.length;
    }
  }

  async #claim(endpointId: string, deliveryId: string | null, now: Date): Promise<Claimed[]> {
    const leaseUntil = new Date(now.getTime() + (this.deps.leaseMs ?? DEFAULT_LEASE_MS));
    return this.deps.db.transaction().execute(async (tx) => {
      // The endpoint's row lock makes count-then-claim atomic per endpoint; the claim is its own
      // statement so that it counts, with a fresh snapshot, the leases of claims that committed
      // while this one waited for the lock.
      // A deleted org sends nothing more, test deliveries (which go to disabled endpoints) included.
      const endpoint = await tx
        .selectFrom('webhook_endpoints as e')
        .innerJoin('orgs as o', 'o.id', 'e.org_id')
        .selectAll('e')
        .where('e.id', '=', endpointId)
        .where('o.deleted_at', 'is', null)
        .forUpdate('e')
        .executeTakeFirst();
      if (!endpoint) return [];
      const { rows } = await sql<DeliveryRow>`
        update webhook_deliveries set lease_until = ${leaseUntil}::timestamptz, attempts = attempts + 1
         where id in (
           select id from webhook_deliveries
            where endpoint_id = ${endpointId}::uuid and status = 'pending'
              and next_attempt_at <= ${now}::timestamptz
              and (lease_until is null or lease_until <= ${now}::timestamptz)
              ${endpoint.enabled ? sql`` : sql`and type = 'webhook.test'`}
            order by ${deliveryId ? sql`(id = ${deliveryId}::uuid) desc,` : sql``} next_attempt_at, created_at
            limit greatest(0, ${this.deps.concurrency}::int - (
              select count(*) from webhook_deliveries
               where endpoint_id = ${endpointId}::uuid and lease_until > ${now}::timestamptz)::int)
            for update skip locked)
        returning *`.execute(tx);
      return rows.map((delivery) => ({ endpoint, delivery }));
    });
  }

  async #attempt({ endpoint, delivery }: Claimed): Promise<void> {
    const now = this.deps.now();
    const result = await this.#send(endpoint, delivery, now);
    const verdict = result.final ? 'fail' : attemptVerdict(result.responseStatus);
    const attempt = delivery.attempts;
    const next = verdict === 'retry' ? nextAttemptAt(attempt, now) : null;
    const outcome: AttemptOutcome = verdict === 'delivered' ? 'delivered' : next ? 'retrying' : 'failed';
    // One statement records the attempt and moves the delivery on; the endpoint is touched only
    // when its failing run starts, goes on or ends.
    const record = (tx: Tx) =>
      sql`
      with attempt as (
        insert into webhook_attempts (id, delivery_id, attempt, outcome, response_status, duration_ms, error, attempted_at)
        values (gen_random_uuid(), ${delivery.id}::uuid, ${attempt}, ${outcome}, ${result.responseStatus}::int,
                ${Math.round(result.durationMs)}, ${result.error}, ${now}::timestamptz)
      )
      update webhook_deliveries set
        status = ${outcome === 'retrying' ? 'pending' : outcome},
        next_attempt_at = ${next}::timestamptz,
        lease_until = null,
        finished_at = ${outcome === 'retrying' ? null : now}::timestamptz
      where id = ${delivery.id}::uuid`.execute(tx);
    const touchesEndpoint =
      delivery.type !== 'webhook.test' && (verdict !== 'delivered' || endpoint.failing_since !== null);
    try {
      if (!touchesEndpoint) {
        await record(this.deps.db);
        return;
      }
      await this.#persist(endpoint, verdict, now, record);
    } catch (error) {
      // The endpoint (and with it the delivery) was deleted while this attempt was in flight:
      // there is nothing left to record, and the other deliveries of this run must go on.
      if ((error as { code?: string }).code === '23503') return;
      throw error;
    }
  }

  async #persist(
    endpoint: EndpointRow,
    verdict: 'delivered' | 'retry' | 'fail',
    now: Date,
    record: (tx: Tx) => Promise<unknown>,
  ): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await record(tx);
      if (verdict === 'delivered') {
        await tx
          .updateTable('webhook_endpoints')
          .set({ failing_since: null })
          .where('id', '=', endpoint.id)
          .execute();
        return;
      }
      await this.#recordFailure(tx, endpoint, now);
    });
  }

  /** A failure starts (or continues) the endpoint's failing run; five days of it disable the endpoint. */
  async #recordFailure(tx: Tx, endpoint: EndpointRow, now: Date): Promise<void> {
    const row = await tx
      .updateTable('webhook_endpoints')
      .set({ failing_since: sql<Date>`coalesce(failing_since, ${now}::timestamptz)` })
      .where('id', '=', endpoint.id)
      .returning(['failing_since', 'enabled'])
      .executeTakeFirst();
    if (!row?.enabled || !shouldDisable(row.failing_since, now)) return;
    const disabled = await tx
      .updateTable('webhook_endpoints')
      .set({ enabled: false, disabled_reason: 'failing', updated_at: now })
      .where('id', '=', endpoint.id)
      .where('enabled', '=', true)
      .returning('id')
      .executeTakeFirst();
    if (!disabled) return;
    await appendAudit(tx, {
      orgId: endpoint.org_id,
      action: 'webhook.disabled',
      actor: { type: 'system', id: null },
      target: { type: 'webhook', id: endpoint.id },
      metadata: { reason: 'failing', failingSince: (row.failing_since as Date).toISOString() },
      now,
    });
    this.deps.metrics.increment('webhook_endpoints_disabled', { orgId: endpoint.org_id });
    await this.#mailAdmins(tx, endpoint.org_id, now);
  }

  async #mailAdmins(tx: Tx, orgId: string, now: Date): Promise<void> {
    const org = await tx
      .selectFrom('orgs')
      .select(['name', 'slug'])
      .where('id', '=', orgId)
      .executeTakeFirst();
    if (!org) return;
    const admins = await tx
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('u.email')
      .where('m.org_id', '=', orgId)
      .where('m.role', 'in', ['admin', 'owner'])
      .where((eb) => eb.or([eb('m.expires_at', 'is', null), eb('m.expires_at', '>', now)]))
      .where('u.disabled_at', 'is', null)
      .execute();
    const ring = await this.deps.mailKeys();
    for (const admin of admins) {
      await queueMail(
        tx,
        ring,
        renderMail(this.deps.appUrl, {
          type: 'webhook-disabled',
          to: admin.email,
          orgName: org.name,
          orgSlug: org.slug,
          failingDays: Math.round(DISABLE_AFTER_FAILING_MS / DAY_MS),
        }),
        now,
      );
    }
  }

  async #send(endpoint: EndpointRow, delivery: DeliveryRow, now: Date): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const ring = await this.deps.keys();
    const keys = this.#signersFor(ring, endpoint, now);
    if (!keys)
      return { responseStatus: null, durationMs: 0, error: 'signing secret unreadable', final: true };
    const extra = endpoint.headers_sealed
      ? open(ring, endpoint.headers_sealed, headersContext(endpoint.id))
      : null;
    const providerHeaders = extra ? (JSON.parse(extra.toString('utf8')) as Record<string, string>) : {};
    const { body, contentType } = wireBody(endpoint.format, delivery.id, delivery.payload, this.deps.host);
    const headers = {
      ...providerHeaders,
      'content-type': contentType,
      'user-agent': 'SessionForge-Webhooks/1',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader(keys, delivery.id, now, body),
    };
    try {
      const response = await this.deps.fetch(endpoint.url, { method: 'POST', headers, body });
      return { responseStatus: response.status, durationMs: elapsed(), error: null, final: false };
    } catch (error) {
      const reason = error instanceof OutboundError ? error.reason : String(error);
      const redirect = /^redirect \((\d{3})\)/.exec(reason);
      if (redirect) {
        return {
          responseStatus: Number(redirect[1]),
          durationMs: elapsed(),
          error: 'redirect not followed',
          final: true,
        };
      }
      if (reason.startsWith('refused:') && !isIP(new URL(endpoint.url).hostname.replace(/^\[|\]$/g, ''))) {
        // A name that resolves inside is logged as one that does not resolve (and retried like
        // it): otherwise the log tells an admin which internal names exist. Nothing connects.
        return { responseStatus: null, durationMs: elapsed(), error: 'could not connect', final: false };
      }
      if (reason.startsWith('refused:') || reason.startsWith('scheme ')) {
        return { responseStatus: null, durationMs: elapsed(), error: 'address not allowed', final: true };
      }
      // One word for every network failure: the log must not map someone else's network.
      const timedOut = /timed out/.test(reason);
      return {
        responseStatus: null,
        durationMs: elapsed(),
        error: timedOut ? 'timed out' : 'could not connect',
        final: false,
      };
    }
  }

  /** The current secret, and the previous one while its 24 hours last; cached per sealed value. */
  #signersFor(ring: KeyRing, endpoint: EndpointRow, now: Date): SigningKey[] | null {
    const previousLive =
      endpoint.previous_secret_sealed &&
      endpoint.previous_secret_expires_at &&
      endpoint.previous_secret_expires_at > now;
    const cacheKey = `${endpoint.secret_sealed}|${previousLive ? endpoint.previous_secret_sealed : ''}`;
    const cached = this.#signers.get(cacheKey);
    if (cached) return cached;
    const sealed = [
      endpoint.secret_sealed,
      ...(previousLive ? [endpoint.previous_secret_sealed as string] : []),
    ];
    const secrets: string[] = [];
    for (const value of sealed) {
      const plain = open(ring, value, secretContext(endpoint.id));
      if (!plain) return null;
      secrets.push(plain.toString('utf8'));
    }
    const built = signers(secrets);
    if (this.#signers.size > 1000) this.#signers.clear();
    this.#signers.set(cacheKey, built);
    return built;
  }
}
