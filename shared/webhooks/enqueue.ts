import { sql } from 'kysely';
import type { ChainedRow } from '../audit/chain.js';
import { enqueue, type Tx } from '../bus/outbox.js';
import { orgSignInEvents } from './model.js';
import type { WebhookPayload } from './tables.js';
import './tables.js';

const signInEvents = new Set<string>(orgSignInEvents);

/** The webhook body of one audit row: `{type, timestamp, data}`, ids only (audit rows hold no names). */
export function auditPayload(row: ChainedRow): WebhookPayload {
  return {
    type: row.action,
    timestamp: row.createdAt,
    data: {
      id: row.id,
      orgId: row.orgId,
      actor: { type: row.actorType, id: row.actorId },
      target: row.targetType ? { type: row.targetType, id: row.targetId } : null,
      metadata: row.metadata,
      ip: row.ip,
      seq: row.seq,
    },
  };
}

/**
 * Queues one delivery per enabled endpoint that asked for this audit row's type, in the caller's
 * transaction: a change that rolls back takes its deliveries with it, and one that commits cannot
 * lose them. An org's own chain goes to its endpoints; a sign-in or session event of an account
 * chain goes to the orgs it belongs to (API.md): the session is bound to the org or acts in it, or
 * the account's address is of a domain the org verified. Never a member's activity elsewhere, and
 * nothing of a session whose reach into the org ended (the member left or was removed, an admin
 * revoked it there, the org's idle timeout or session cap closed it). Nor to an endpoint whose
 * creator is no longer an admin there: removal and demotion turn it off at once, a membership that
 * lapsed (nothing runs at its expiry) is caught here; an admin turning it on takes it over.
 */
export async function enqueueWebhookDeliveries(tx: Tx, row: ChainedRow, now: Date): Promise<number> {
  let orgIds: ReturnType<typeof sql<string>>;
  if (row.orgId !== null && row.chain.startsWith('org:')) {
    orgIds = sql<string>`select ${row.orgId}::uuid`;
  } else if (row.chain.startsWith('user:') && signInEvents.has(row.action)) {
    const userId = row.chain.slice('user:'.length);
    const sessionId = row.targetType === 'session' ? row.targetId : null;
    orgIds = sql<string>`
      select s.org_id from sessions s where s.id = ${sessionId}::uuid and s.org_id is not null
      union
      select a.org_id from session_org_activity a
       where a.session_id = ${sessionId}::uuid and a.ended_at is null
      union
      select d.org_id from org_domains d join users u
        on d.domain = split_part(u.email_normalized, '@', 2)
       where u.id = ${userId}::uuid and d.verified_at is not null`;
  } else {
    return 0;
  }
  const { rows } = await sql<{ id: string; org_id: string }>`
    insert into webhook_deliveries (id, endpoint_id, org_id, event_id, type, payload, status, next_attempt_at, created_at)
    select gen_random_uuid(), e.id, e.org_id, ${row.id}::uuid, ${row.action},
           ${JSON.stringify(auditPayload(row))}::jsonb, 'pending', ${now}::timestamptz, ${now}::timestamptz
      from webhook_endpoints e
     where e.enabled
       and e.org_id in (${orgIds})
       and (e.created_by is null or exists (
             select 1 from memberships m
              where m.org_id = e.org_id and m.user_id = e.created_by and m.role in ('admin', 'owner')
                and (m.expires_at is null or m.expires_at > ${now}::timestamptz)))
       and (e.events @> '["*"]'::jsonb or e.events @> jsonb_build_array(${row.action}::text))
    returning id, org_id`.execute(tx);
  for (const delivery of rows) {
    await enqueue(tx, 'webhook-deliveries', { deliveryId: delivery.id }, { now, orgId: delivery.org_id });
  }
  return rows.length;
}
