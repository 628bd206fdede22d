import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { ChainedRow } from './chain.js';
import './tables.js';

/** A stored audit row: the hashed fields plus the chain links. */
export interface StoredRow extends ChainedRow {
  prevHash: string;
  hash: string;
}

export interface ListFilters {
  action?: string;
  actorId?: string;
  since?: Date;
  until?: Date;
  /** Only rows with seq below this (keyset pagination, newest first). */
  beforeSeq?: number;
  limit: number;
}

const columns = [
  'id',
  'chain',
  'seq',
  'org_id',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'metadata',
  'ip',
  'created_at',
  'prev_hash',
  'hash',
] as const;

/** Reads of the audit log, named by intent. Writes go only through appendAudit. */
export class AuditStore {
  constructor(private readonly db: Db | Tx) {}

  /** Newest first; `limit` rows at most. */
  async list(chain: string, filters: ListFilters): Promise<StoredRow[]> {
    let query = this.db.selectFrom('audit_logs').select(columns).where('chain', '=', chain);
    if (filters.action) query = query.where('action', '=', filters.action);
    if (filters.actorId) query = query.where('actor_id', '=', filters.actorId);
    if (filters.since) query = query.where('created_at', '>=', filters.since);
    if (filters.until) query = query.where('created_at', '<', filters.until);
    if (filters.beforeSeq !== undefined) query = query.where('seq', '<', filters.beforeSeq);
    const rows = await query.orderBy('seq', 'desc').limit(filters.limit).execute();
    return rows.map(toStoredRow);
  }

  /** One keyset page of a chain in seq order, for verification. */
  async pageAfter(chain: string, afterSeq: number, limit: number): Promise<StoredRow[]> {
    const rows = await this.db
      .selectFrom('audit_logs')
      .select(columns)
      .where('chain', '=', chain)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toStoredRow);
  }

  /** Streams a chain in seq order, one page in memory at a time. */
  async *stream(chain: string, afterSeq = 0, pageSize = 2000): AsyncGenerator<StoredRow> {
    let last = afterSeq;
    for (;;) {
      const page = await this.pageAfter(chain, last, pageSize);
      for (const row of page) yield row;
      if (page.length < pageSize) return;
      last = page[page.length - 1]!.seq;
    }
  }

  async head(chain: string): Promise<{ seq: number; hash: string } | null> {
    const head = await this.db
      .selectFrom('audit_chain_heads')
      .select(['seq', 'hash'])
      .where('chain', '=', chain)
      .executeTakeFirst();
    return head ?? null;
  }
}

type Selected = {
  id: string;
  chain: string;
  seq: number;
  org_id: string | null;
  actor_type: 'user' | 'api_key' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
  ip: string | null;
  created_at: Date;
  prev_hash: string;
  hash: string;
};

function toStoredRow(row: Selected): StoredRow {
  return {
    id: row.id,
    chain: row.chain,
    seq: Number(row.seq),
    orgId: row.org_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    metadata: row.metadata,
    ip: row.ip,
    createdAt: row.created_at.toISOString(),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
