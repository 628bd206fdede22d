import type { Generated, JSONColumnType } from 'kysely';

export interface AuditChainHeadsTable {
  chain: string;
  seq: number;
  hash: string;
  /** The hash this head replaced: the new row's prev_hash, returned by the append statement. */
  prev_hash: Generated<string>;
}

export interface AuditLogsTable {
  id: string;
  chain: string;
  seq: number;
  org_id: string | null;
  actor_type: 'user' | 'api_key' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  metadata: JSONColumnType<Record<string, unknown>, string, string>;
  ip: string | null;
  created_at: Date;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  chain: string;
  seq: number;
  hash: string;
  signed_at: Date;
}

/** One row per org chain deleted after its retention (migration 0055): written only by the database's purge function. */
export interface AuditChainPurgesTable {
  chain: string;
  org_id: string;
  last_seq: number;
  last_hash: string;
  closed_at: Date;
  rows_deleted: number;
  purged_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    audit_chain_heads: AuditChainHeadsTable;
    audit_logs: AuditLogsTable;
    audit_checkpoints: AuditCheckpointsTable;
    audit_chain_purges: AuditChainPurgesTable;
  }
}
