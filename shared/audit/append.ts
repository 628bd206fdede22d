import { randomUUID } from 'node:crypto';
import type { Tx } from '../bus/outbox.js';
import type { AccountAction, ActorType, OrgAction } from './actions.js';
import { type ChainedRow, GENESIS_HASH, orgChain, rowHash, userChain } from './chain.js';
import { accountMetadataSchemas, orgMetadataSchemas } from './metadata.js';
import './tables.js';

interface EventCommon {
  actor: { type: ActorType; id: string | null };
  target?: { type: string; id: string };
  metadata?: Record<string, unknown>;
  ip?: string | null;
  now: Date;
}

/** Platform events that belong to no org or user (backup checks) chain on `system:<name>`. */
export type SystemAction = Extract<OrgAction, 'backup.verified' | 'backup.missing'>;

export type AuditEvent =
  | (EventCommon & { orgId: string; action: OrgAction })
  | (EventCommon & { userId: string; action: AccountAction })
  | (EventCommon & { system: 'backups'; action: SystemAction });

/**
 * Appends one event to its chain inside the caller's transaction, so the row exists exactly when
 * the change it describes commits. The chain head row is locked until the caller commits, so
 * concurrent appenders to one chain queue up and form a single linear chain.
 */
export async function appendAudit(
  tx: Tx,
  event: AuditEvent,
): Promise<ChainedRow & { hash: string; prevHash: string }> {
  const chain =
    'orgId' in event
      ? orgChain(event.orgId)
      : 'userId' in event
        ? userChain(event.userId)
        : `system:${event.system}`;
  const metadata = validMetadata(event);
  // One round trip creates the head if needed and locks it: DO UPDATE (a no-op) takes the row lock
  // and returns the latest committed head, so the next appender to this chain waits here.
  const head = await tx
    .insertInto('audit_chain_heads')
    .values({ chain, seq: 0, hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('chain').doUpdateSet((eb) => ({ chain: eb.ref('excluded.chain') })))
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();

  const row: ChainedRow = {
    id: randomUUID(),
    chain,
    seq: head.seq + 1,
    orgId: 'orgId' in event ? event.orgId : null,
    actorType: event.actor.type,
    actorId: event.actor.id,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    metadata,
    ip: event.ip ?? null,
    createdAt: event.now.toISOString(),
  };
  const hash = rowHash(head.hash, row);
  // The row and the new head in a second (and last) round trip.
  await tx
    .with('inserted', (db) =>
      db
        .insertInto('audit_logs')
        .values({
          id: row.id,
          chain,
          seq: row.seq,
          org_id: row.orgId,
          actor_type: row.actorType,
          actor_id: row.actorId,
          action: row.action,
          target_type: row.targetType,
          target_id: row.targetId,
          metadata: JSON.stringify(row.metadata),
          ip: row.ip,
          created_at: event.now,
          prev_hash: head.hash,
          hash,
        })
        .returning('id'),
    )
    .updateTable('audit_chain_heads')
    .set({ seq: row.seq, hash })
    .where('chain', '=', chain)
    .execute();
  return { ...row, hash, prevHash: head.hash };
}

/**
 * Checks the action's metadata schema (a mismatch is a programming error, so it throws) and returns
 * the metadata as the JSON that jsonb will hand back, so the hash verify recomputes is the same.
 */
function validMetadata(event: AuditEvent): Record<string, unknown> {
  const schema = 'userId' in event ? accountMetadataSchemas[event.action] : orgMetadataSchemas[event.action];
  if (!schema) throw new Error(`audit action ${event.action} is not in the closed list`);
  const parsed = schema.safeParse(event.metadata ?? {});
  if (!parsed.success) {
    throw new Error(`audit metadata for ${event.action} is invalid: ${parsed.error.issues[0]?.message}`);
  }
  return JSON.parse(JSON.stringify(event.metadata ?? {})) as Record<string, unknown>;
}
