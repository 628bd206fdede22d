import type { JSONColumnType } from 'kysely';

export interface IpAllowlistsTable {
  org_id: string;
  enabled: boolean;
  /** `[{cidr, label}]`, canonical CIDRs; read back through zod (shared/allowlist/store.ts). */
  entries: JSONColumnType<object, string, string>;
  updated_at: Date;
  updated_by: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    ip_allowlists: IpAllowlistsTable;
  }
}
