import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import { enqueueWebhookDeliveries } from '../webhooks/enqueue.js';
import type { AccountAction, ActorType, OrgAction } from './actions.js';
import {
  type ChainedRow,
  canonicalRowAroundSeq,
  GENESIS_HASH,
  type LinkedRow,
  linkRows,
  orgChain,
  rowHash,
  userChain,
} from './chain.js';
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
export type SystemAction = Extract<
  OrgAction,
  'backup.verified' | 'backup.missing' | 'backup.restore_drill_passed' | 'backup.restore_drill_failed'
>;

export type AuditEvent =
  | (EventCommon & { orgId: string; action: OrgAction })
  | (EventCommon & { userId: string; action: AccountAction })
  | (EventCommon & { system: 'backups'; action: SystemAction });

/**
 * Appends one event to its chain inside the caller's transaction, so the row exists exactly when
 * the change it describes commits. The chain head row is locked until the caller commits, so
 * concurrent appenders to one chain queue up and form a single linear chain.
 *
 * Appends to one chain run one at a time, so their rate is 1 ÷ (time the head stays locked). One
 * statement takes the lock, advances the head and inserts the row: the database fills in the seq
 * and hashes `prev_hash ‖ canonical row` (built here, split around seq) with its own SHA-256, and
 * the lock is then held only for the commit (bench/results/audit.md). The hash is checked here
 * again before returning, so a database that encoded the text differently fails the change
 * instead of breaking the chain.
 */
export async function appendAudit(tx: Tx, event: AuditEvent): Promise<AppendedRow> {
  const fields = rowFields(event);
  const { chain } = fields;
  const [beforeSeq, afterSeq] = canonicalRowAroundSeq(fields);
  // UPDATE … RETURNING locks the head row and sees its latest committed version, so the next
  // appender to this chain waits here until this transaction ends. (INSERT … ON CONFLICT DO UPDATE
  // would also create a missing head, but queues several times slower when writers pile up.)
  const advance = () =>
    sql<{ seq: number | string; prev_hash: string; hash: string }>`
      with head as (
        update audit_chain_heads as h set
          seq = h.seq + 1,
          prev_hash = h.hash,
          hash = encode(sha256(convert_to(h.hash || ${beforeSeq} || (h.seq + 1)::text || ${afterSeq}, 'UTF8')), 'hex')
        where h.chain = ${chain}
        returning h.seq, h.prev_hash, h.hash
      )
      insert into audit_logs (id, chain, seq, org_id, actor_type, actor_id, action, target_type,
                              target_id, metadata, ip, created_at, prev_hash, hash)
      select ${fields.id}::uuid, ${chain}, head.seq, ${fields.orgId}::uuid, ${fields.actorType},
             ${fields.actorId}, ${fields.action}, ${fields.targetType}, ${fields.targetId},
             ${JSON.stringify(fields.metadata)}::jsonb, ${fields.ip}, ${fields.createdAt}::timestamptz,
             head.prev_hash, head.hash
      from head
      returning seq, prev_hash, hash`.execute(tx);
  let { rows } = await advance();
  if (rows.length === 0) {
    await createHead(tx, chain);
    ({ rows } = await advance());
  }
  const stored = rows[0];
  if (!stored) throw new Error(`audit append to ${chain} inserted no row`);
  const row: ChainedRow = { ...fields, seq: Number(stored.seq) };
  if (rowHash(stored.prev_hash, row) !== stored.hash) {
    throw new Error(`audit append to ${chain}: the database's hash differs from the canonical one`);
  }
  await enqueueWebhookDeliveries(tx, row, event.now);
  return { ...row, hash: stored.hash, prevHash: stored.prev_hash };
}

/**
 * Appends events of one chain, in order, in three statements however many there are: lock the
 * head, insert every row, move the head. For a batch that shares one transaction (the audit-events
 * consumer's GroupCommitter); a single event is one statement through appendAudit.
 */
export async function appendAuditBatch(tx: Tx, events: readonly AuditEvent[]): Promise<AppendedRow[]> {
  // One event is one statement the other way (a lone delivery is the common case at low load).
  if (events.length === 1) return [await appendAudit(tx, events[0] as AuditEvent)];
  const rows = events.map(rowFields);
  const chain = rows[0]?.chain;
  if (chain === undefined) return [];
  if (rows.some((row) => row.chain !== chain)) throw new Error('appendAuditBatch takes events of one chain');
  const lockHead = () =>
    tx
      .selectFrom('audit_chain_heads')
      .select(['seq', 'hash'])
      .where('chain', '=', chain)
      .forUpdate()
      .executeTakeFirst();
  let head = await lockHead();
  if (!head) {
    await createHead(tx, chain);
    head = await lockHead();
    if (!head) throw new Error(`audit chain head ${chain} could not be created`);
  }
  const base = Number(head.seq);
  const appended = linkRows(
    head.hash,
    rows.map((fields, i) => ({ ...fields, seq: base + i + 1 })),
  );
  await tx.insertInto('audit_logs').values(appended.map(auditLogValues)).execute();
  const last = appended.at(-1) as AppendedRow;
  await tx
    .updateTable('audit_chain_heads')
    .set({ seq: last.seq, hash: last.hash, prev_hash: last.prevHash })
    .where('chain', '=', chain)
    .execute();
  for (const [i, row] of appended.entries())
    await enqueueWebhookDeliveries(tx, row, (events[i] as AuditEvent).now);
  return appended;
}

export type AppendedRow = LinkedRow;

/**
 * A chain's first event creates its head at genesis; a concurrent creator's row wins (this waits
 * for it), and the caller then advances the head like any other.
 */
async function createHead(tx: Tx, chain: string): Promise<void> {
  await tx
    .insertInto('audit_chain_heads')
    .values({ chain, seq: 0, hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('chain').doNothing())
    .execute();
}

/** A linked row as the audit_logs columns store it. */
export function auditLogValues(row: LinkedRow) {
  return {
    id: row.id,
    chain: row.chain,
    seq: row.seq,
    org_id: row.orgId,
    actor_type: row.actorType,
    actor_id: row.actorId,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    metadata: JSON.stringify(row.metadata),
    ip: row.ip,
    created_at: new Date(row.createdAt),
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

/** The row an event becomes, all but its place in the chain (seq, links). */
function rowFields(event: AuditEvent): Omit<ChainedRow, 'seq'> {
  return {
    id: randomUUID(),
    chain:
      'orgId' in event
        ? orgChain(event.orgId)
        : 'userId' in event
          ? userChain(event.userId)
          : `system:${event.system}`,
    orgId: 'orgId' in event ? event.orgId : null,
    actorType: event.actor.type,
    actorId: event.actor.id,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    metadata: validMetadata(event),
    ip: event.ip ?? null,
    createdAt: event.now.toISOString(),
  };
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
