import type { OrgRole } from '../orgs/model.js';

export interface ScimTokensTable {
  id: string;
  org_id: string;
  name: string;
  token_hash: Buffer;
  display_prefix: string;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

/** Migration 0051: what the org's identity provider knows of a person beyond the membership. */
export interface ScimUsersTable {
  org_id: string;
  user_id: string;
  external_id: string | null;
  /** A pending invitation: an existing account SCIM may not attach on its own. */
  invitation_id: string | null;
  /** Suspended (`active: false` or DELETE): the membership row is gone, its role waits here. */
  suspended_at: Date | null;
  suspended_role: Exclude<OrgRole, 'owner'> | null;
  suspended_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    scim_tokens: ScimTokensTable;
    scim_users: ScimUsersTable;
  }
}
