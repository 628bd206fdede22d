import { type Selectable, sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { LinkedRow } from './chain.js';
import type { AuditLogsTable } from './tables.js';

/** A stored audit row: the hashed fields plus the chain links. */
export type StoredRow = LinkedRow;

export interface ListFilters {
  action?: string;
  actorId?: string;
  since?: Date;
  until?: Date;
  /** Only rows with seq below this (keyset pagination, newest first). */
  beforeSeq?: number;
  limit: number;
}

/** Every column but created_at, which range() reads as the ISO text the hash covers. */
const linkedColumns = [
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
  'prev_hash',
  'hash',
] as const;

/** Reads of the audit log, named by intent. Writes go only through appendAudit. */
export class AuditStore {
  constructor(private readonly db: Db | Tx) {}

  /** Newest first; `limit` rows at most. */
  async list(chain: string, filters: ListFilters): Promise<StoredRow[]> {
    let query = this.db
      .selectFrom('audit_logs')
      .select([...linkedColumns, 'created_at'])
      .where('chain', '=', chain);
    if (filters.action) query = query.where('action', '=', filters.action);
    if (filters.actorId) query = query.where('actor_id', '=', filters.actorId);
    if (filters.since) query = query.where('created_at', '>=', filters.since);
    if (filters.until) query = query.where('created_at', '<', filters.until);
    if (filters.beforeSeq !== undefined) query = query.where('seq', '<', filters.beforeSeq);
    const rows = await query.orderBy('seq', 'desc').limit(filters.limit).execute();
    return rows.map(toStoredRow);
  }

  /**
   * Rows with afterSeq < seq ≤ throughSeq in seq order. Pages are seq ranges rather than LIMITs so
   * each one touches only its own rows whatever the plan, and a gap only makes a page shorter.
   * created_at comes back as the ISO text the hash covers (cheaper than building Dates).
   */
  async range(chain: string, afterSeq: number, throughSeq: number): Promise<StoredRow[]> {
    const rows = await this.db
      .selectFrom('audit_logs')
      .select([
        ...linkedColumns,
        sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('created_at'),
      ])
      .where('chain', '=', chain)
      .where('seq', '>', afterSeq)
      .where('seq', '<=', throughSeq)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toStoredRow);
  }

  /**
   * Streams a chain in seq order up to `throughSeq`, one page in memory at a time (plus the next
   * one, fetched while the caller hashes this one: the database and the hashing overlap). Yields
   * whole pages: verify walks ~100,000 rows a second, and a yield per row cost it a fifth of that.
   */
  async *pages(
    chain: string,
    afterSeq: number,
    throughSeq: number,
    pageSize = 5000,
  ): AsyncGenerator<readonly StoredRow[]> {
    const fetch = (from: number) => {
      const page = this.range(chain, from, Math.min(from + pageSize, throughSeq));
      page.catch(() => undefined); // awaited below; this only keeps an abandoned prefetch quiet
      return page;
    };
    let from = afterSeq;
    let next = from < throughSeq ? fetch(from) : null;
    while (next) {
      const page = await next;
      from += pageSize;
      next = from < throughSeq ? fetch(from) : null;
      yield page;
    }
  }

  /** The highest seq stored for a chain (0 for none), whatever its head row says. */
  async lastSeq(chain: string): Promise<number> {
    const row = await this.db
      .selectFrom('audit_logs')
      .select((eb) => eb.fn.max('seq').as('last'))
      .where('chain', '=', chain)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
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

type Selected = Omit<Selectable<AuditLogsTable>, 'created_at'> & { created_at: Date | string };

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
    createdAt: typeof row.created_at === 'string' ? row.created_at : row.created_at.toISOString(),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
