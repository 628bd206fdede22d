import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { appendAudit } from '../audit/append.js';
import { enqueue, type Tx } from '../bus/outbox.js';
import { type KeyRing, seal } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import { isId } from '../orgs/model.js';
import { headersContext, secretContext } from './keys.js';
import { newWebhookSecret, PREVIOUS_SECRET_TTL_MS } from './model.js';
import type { WebhookEndpointsTable, WebhookFormat } from './tables.js';
import { checkEndpointUrl, type UrlPolicy } from './url-check.js';
import './tables.js';
import '../orgs/tables.js';

export interface WebhookServiceDeps {
  db: Db;
  keys: () => Promise<KeyRing>;
  urlPolicy: UrlPolicy;
}

export interface Actor {
  userId: string;
  ip: string | null;
}

export interface EndpointInput {
  url: string;
  events: string[];
  format: WebhookFormat;
  description?: string | undefined;
  headers?: Record<string, string> | undefined;
}

export interface EndpointPatch {
  url?: string | undefined;
  events?: string[] | undefined;
  format?: WebhookFormat | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
  /** Replaces every provider header; `{}` removes them. Absent: keep the stored ones. */
  headers?: Record<string, string> | undefined;
}

/** What an admin sees of an endpoint: never its secret (after creation) nor its header values. */
export interface EndpointView {
  id: string;
  url: string;
  description: string;
  events: string[];
  format: WebhookFormat;
  enabled: boolean;
  disabledReason: string | null;
  headerNames: string[];
  /** During a rotation: until when the previous secret still signs too. */
  previousSecretValidUntil: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AttemptView {
  attempt: number;
  outcome: string;
  responseStatus: number | null;
  durationMs: number;
  error: string | null;
  attemptedAt: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: string;
  attempt: number;
  responseStatus: number | null;
  durationMs: number | null;
  error: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  /** The first 500 characters of the Standard Webhooks body. */
  payloadPreview: string;
  attempts: AttemptView[];
}

const PREVIEW_CHARS = 500;
/** Each audit event fans out to every endpoint: the cap bounds what one admin can make us send. */
export const MAX_ENDPOINTS_PER_ORG = 20;
export const DELIVERY_PAGE_SIZE = 50;
const NOT_FOUND = () => fail('NOT_FOUND', 'No such webhook endpoint in this org.');

export function endpointView(row: Selectable<WebhookEndpointsTable>, now: Date): EndpointView {
  const previousLive = row.previous_secret_expires_at && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    format: row.format,
    enabled: row.enabled,
    disabledReason: row.enabled ? null : row.disabled_reason,
    headerNames: row.header_names,
    previousSecretValidUntil: previousLive ? (row.previous_secret_expires_at as Date).toISOString() : null,
    failingSince: row.failing_since?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Org webhook endpoints: CRUD, secret rotation, test and retry. Every change is audited in its own
 * transaction (and so reaches the org's endpoints like any other audit row).
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  async list(orgId: string, now: Date): Promise<EndpointView[]> {
    const rows = await this.deps.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => endpointView(row, now));
  }

  async get(orgId: string, id: string, now: Date): Promise<Result<{ endpoint: EndpointView }>> {
    const row = await this.#find(this.deps.db, orgId, id);
    return row ? { ok: true, endpoint: endpointView(row, now) } : NOT_FOUND();
  }

  async create(
    orgId: string,
    input: EndpointInput,
    actor: Actor,
    now: Date,
  ): Promise<Result<{ endpoint: EndpointView; secret: string }>> {
    const urlProblem = await checkEndpointUrl(input.url, this.deps.urlPolicy);
    if (urlProblem) return urlFailure(urlProblem);
    const ring = await this.deps.keys();
    const id = randomUUID();
    const secret = newWebhookSecret();
    const headers = input.headers ?? {};
    return this.deps.db.transaction().execute(async (tx) => {
      // The org row's lock makes count-then-insert atomic against concurrent creates.
      await tx.selectFrom('orgs').select('id').where('id', '=', orgId).forUpdate().executeTakeFirst();
      const { n } = await tx
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow();
      if (Number(n) >= MAX_ENDPOINTS_PER_ORG) {
        return fail(
          'CONFLICT',
          `An organization can have at most ${MAX_ENDPOINTS_PER_ORG} webhook endpoints; delete one first.`,
        );
      }
      const inserted = await tx
        .insertInto('webhook_endpoints')
        .values({
          id,
          org_id: orgId,
          url: input.url,
          description: input.description ?? '',
          format: input.format,
          events: JSON.stringify(input.events),
          enabled: true,
          secret_sealed: seal(ring, secret, secretContext(id)),
          headers_sealed:
            Object.keys(headers).length > 0 ? seal(ring, JSON.stringify(headers), headersContext(id)) : null,
          header_names: JSON.stringify(Object.keys(headers).sort()),
          created_by: actor.userId,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#audit(tx, orgId, id, actor, now, 'webhook.created', {
        format: input.format,
        events: input.events,
        headerNames: Object.keys(headers).sort(),
      });
      return { ok: true as const, endpoint: endpointView(inserted, now), secret };
    });
  }

  async update(
    orgId: string,
    id: string,
    patch: EndpointPatch,
    actor: Actor,
    now: Date,
  ): Promise<Result<{ endpoint: EndpointView }>> {
    if (patch.url !== undefined) {
      const urlProblem = await checkEndpointUrl(patch.url, this.deps.urlPolicy);
      if (urlProblem) return urlFailure(urlProblem);
    }
    const ring = patch.headers !== undefined ? await this.deps.keys() : null;
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.#find(tx, orgId, id, true);
      if (!current) return NOT_FOUND();
      const changed = Object.entries(patch)
        .filter(([, value]) => value !== undefined)
        .map(([key]) => key)
        .sort();
      const headers = patch.headers;
      const row = await tx
        .updateTable('webhook_endpoints')
        .set({
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.events !== undefined ? { events: JSON.stringify(patch.events) } : {}),
          ...(patch.format !== undefined ? { format: patch.format } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.enabled !== undefined
            ? patch.enabled
              ? // Turning it on makes it the caller's: an endpoint lives while its admin does.
                { enabled: true, disabled_reason: null, failing_since: null, created_by: actor.userId }
              : { enabled: false, disabled_reason: 'admin' }
            : {}),
          ...(headers !== undefined && ring
            ? {
                headers_sealed:
                  Object.keys(headers).length > 0
                    ? seal(ring, JSON.stringify(headers), headersContext(id))
                    : null,
                header_names: JSON.stringify(Object.keys(headers).sort()),
              }
            : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#audit(tx, orgId, id, actor, now, 'webhook.updated', {
        changed,
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      });
      return { ok: true as const, endpoint: endpointView(row, now) };
    });
  }

  async delete(orgId: string, id: string, actor: Actor, now: Date): Promise<Result<object>> {
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.#find(tx, orgId, id, true);
      if (!current) return NOT_FOUND();
      await tx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      await this.#audit(tx, orgId, id, actor, now, 'webhook.deleted', {});
      return { ok: true as const };
    });
  }

  /**
   * A new secret, shown once; the previous one keeps signing for 24 hours so receivers can switch
   * without dropping a delivery. Rotating again within those hours drops the oldest at once.
   */
  async rotateSecret(
    orgId: string,
    id: string,
    actor: Actor,
    now: Date,
  ): Promise<Result<{ endpoint: EndpointView; secret: string }>> {
    const ring = await this.deps.keys();
    const secret = newWebhookSecret();
    const previousValidUntil = new Date(now.getTime() + PREVIOUS_SECRET_TTL_MS);
    return this.deps.db.transaction().execute(async (tx) => {
      const current = await this.#find(tx, orgId, id, true);
      if (!current) return NOT_FOUND();
      const row = await tx
        .updateTable('webhook_endpoints')
        .set({
          previous_secret_sealed: current.secret_sealed,
          previous_secret_expires_at: previousValidUntil,
          secret_sealed: seal(ring, secret, secretContext(id)),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#audit(tx, orgId, id, actor, now, 'webhook.secret_rotated', {
        previousValidUntil: previousValidUntil.toISOString(),
      });
      return { ok: true as const, endpoint: endpointView(row, now), secret };
    });
  }

  /** Queues a `webhook.test` delivery to this endpoint only (also to a disabled one: that is how you check a fix). */
  async sendTest(
    orgId: string,
    id: string,
    actor: Actor,
    now: Date,
  ): Promise<Result<{ deliveryId: string }>> {
    return this.deps.db.transaction().execute(async (tx) => {
      const endpoint = await this.#find(tx, orgId, id);
      if (!endpoint) return NOT_FOUND();
      const deliveryId = randomUUID();
      const eventId = randomUUID();
      await tx
        .insertInto('webhook_deliveries')
        .values({
          id: deliveryId,
          endpoint_id: id,
          org_id: orgId,
          event_id: eventId,
          type: 'webhook.test',
          payload: JSON.stringify({
            type: 'webhook.test',
            timestamp: now.toISOString(),
            data: { id: eventId, orgId, endpointId: id, requestedBy: actor.userId },
          }),
          status: 'pending',
          next_attempt_at: now,
          created_at: now,
        })
        .execute();
      await enqueue(tx, 'webhook-deliveries', { deliveryId }, { now, orgId });
      return { ok: true as const, deliveryId };
    });
  }

  /**
   * Sends a delivery again now, with the same `webhook-id` (receivers deduplicate on it). A failed
   * one starts a fresh retry schedule; one still waiting for its next try is brought forward.
   */
  async retry(orgId: string, endpointId: string, deliveryId: string, now: Date): Promise<Result<object>> {
    if (!isId(deliveryId)) return fail('NOT_FOUND', 'No such delivery for this endpoint.');
    return this.deps.db.transaction().execute(async (tx) => {
      const endpoint = await this.#find(tx, orgId, endpointId);
      if (!endpoint) return NOT_FOUND();
      const updated = await tx
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: now, finished_at: null, attempts: 0 })
        .where('id', '=', deliveryId)
        .where('endpoint_id', '=', endpointId)
        .where('org_id', '=', orgId)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .returning('id')
        .executeTakeFirst();
      if (!updated) {
        const exists = await tx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('id', '=', deliveryId)
          .where('endpoint_id', '=', endpointId)
          .executeTakeFirst();
        return exists
          ? fail('CONFLICT', 'This delivery is being sent right now; look again in a few seconds.')
          : fail('NOT_FOUND', 'No such delivery for this endpoint.');
      }
      await enqueue(tx, 'webhook-deliveries', { deliveryId }, { now, orgId });
      return { ok: true as const };
    });
  }

  /** Newest first, keyset pages: `cursor` is the last row's (createdAt, id). */
  async deliveries(
    orgId: string,
    endpointId: string,
    cursor: { createdAt: Date; id: string } | null,
  ): Promise<Result<{ deliveries: DeliveryView[]; next: { createdAt: Date; id: string } | null }>> {
    const endpoint = await this.#find(this.deps.db, orgId, endpointId);
    if (!endpoint) return NOT_FOUND();
    const rows = await this.deps.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .$if(cursor !== null, (q) =>
        q.where(({ eb, refTuple, tuple }) =>
          eb(
            refTuple('created_at', 'id'),
            '<',
            tuple((cursor as { createdAt: Date }).createdAt, (cursor as { id: string }).id),
          ),
        ),
      )
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(DELIVERY_PAGE_SIZE + 1)
      .execute();
    const page = rows.slice(0, DELIVERY_PAGE_SIZE);
    const attempts =
      page.length === 0
        ? []
        : await this.deps.db
            .selectFrom('webhook_attempts')
            .selectAll()
            .where(
              'delivery_id',
              'in',
              page.map((r) => r.id),
            )
            .orderBy('attempted_at')
            .orderBy('attempt')
            .execute();
    const byDelivery = new Map<string, AttemptView[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.delivery_id) ?? [];
      list.push({
        attempt: a.attempt,
        outcome: a.outcome,
        responseStatus: a.response_status,
        durationMs: a.duration_ms,
        error: a.error,
        attemptedAt: a.attempted_at.toISOString(),
      });
      byDelivery.set(a.delivery_id, list);
    }
    const deliveries = page.map((row): DeliveryView => {
      const list = byDelivery.get(row.id) ?? [];
      const last = list.at(-1);
      return {
        id: row.id,
        eventId: row.event_id,
        type: row.type,
        status: row.status,
        attempt: list.length,
        responseStatus: last?.responseStatus ?? null,
        durationMs: last?.durationMs ?? null,
        error: last?.error ?? null,
        nextAttemptAt: row.status === 'pending' ? (row.next_attempt_at?.toISOString() ?? null) : null,
        createdAt: row.created_at.toISOString(),
        payloadPreview: JSON.stringify(row.payload).slice(0, PREVIEW_CHARS),
        attempts: list,
      };
    });
    const lastRow = page.at(-1);
    const next =
      rows.length > DELIVERY_PAGE_SIZE && lastRow ? { createdAt: lastRow.created_at, id: lastRow.id } : null;
    return { ok: true, deliveries, next };
  }

  async #find(tx: Tx, orgId: string, id: string, lock = false) {
    if (!isId(id)) return undefined;
    return tx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .$if(lock, (q) => q.forUpdate())
      .executeTakeFirst();
  }

  #audit(
    tx: Tx,
    orgId: string,
    endpointId: string,
    actor: Actor,
    now: Date,
    action: 'webhook.created' | 'webhook.updated' | 'webhook.deleted' | 'webhook.secret_rotated',
    metadata: Record<string, unknown>,
  ) {
    return appendAudit(tx, {
      orgId,
      action,
      actor: { type: 'user', id: actor.userId },
      target: { type: 'webhook', id: endpointId },
      metadata,
      ip: actor.ip,
      now,
    });
  }
}

function urlFailure(message: string) {
  return fail('VALIDATION_FAILED', message, { issues: [{ path: 'url', message }] });
}
