import type { OrgRole } from '../orgs/model.js';

export interface ApiKeysTable {
  id: string;
  org_id: string;
  name: string;
  role: OrgRole;
  key_hash: Buffer;
  display_prefix: string;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    api_keys: ApiKeysTable;
  }
}
