import type { JSONColumnType } from 'kysely';

export interface IpAllowlistsTable {
  org_id: string;
  enabled: boolean;
  /** `[{cidr, label}]` with canonical CIDRs: what admins see (read back through zod, store.ts). */
  entries: JSONColumnType<object, string, string>;
  /** The same entries parsed, 18 bytes each (shared/allowlist/networks.ts): what the gate compiles. */
  networks: Uint8Array;
  updated_at: Date;
  updated_by: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    ip_allowlists: IpAllowlistsTable;
  }
}
