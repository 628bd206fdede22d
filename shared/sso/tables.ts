import type { OrgRole } from '../orgs/model.js';

export interface OrgSsoConfigsTable {
  org_id: string;
  issuer_url: string;
  client_id: string;
  client_secret_sealed: string;
  /** jsonb array of lower-case domains (read back through zod in the store). */
  allowed_domains: unknown;
  default_role: Exclude<OrgRole, 'owner'>;
  password_login_allowed: boolean;
  updated_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Keyed by (org_id, issuer, subject): a subject means something only for the provider that issued it. */
export interface SsoIdentitiesTable {
  org_id: string;
  issuer: string;
  subject: string;
  user_id: string;
  created_at: Date;
  last_login_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    org_sso_configs: OrgSsoConfigsTable;
    sso_identities: SsoIdentitiesTable;
  }
}
