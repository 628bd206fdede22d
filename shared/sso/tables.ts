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
  /** Defaults to 'oidc' in the database. */
  protocol?: 'oidc' | 'saml';
  saml_sso_url?: string | null;
  /** jsonb array of base64 DER certificates (SAML only). */
  saml_certs?: unknown;
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

/** A domain an org claims; `verified_at` set once its TXT record was seen (one verified holder per domain). */
export interface OrgDomainsTable {
  org_id: string;
  domain: string;
  txt_token: string;
  verified_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

/** A link of an existing account to an org SSO identity, waiting for the account's owner to confirm by mail. */
export interface SsoLinkConfirmationsTable {
  token_hash: string;
  org_id: string;
  issuer: string;
  subject: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
}

export interface SamlRequestsTable {
  id: string;
  org_id: string;
  expires_at: Date;
  used_at: Date | null;
}

export interface SamlAssertionsTable {
  org_id: string;
  assertion_id: string;
  expires_at: Date;
}

declare module '../db/schema.js' {
  interface Database {
    saml_requests: SamlRequestsTable;
    saml_assertions: SamlAssertionsTable;
    org_sso_configs: OrgSsoConfigsTable;
    sso_identities: SsoIdentitiesTable;
    org_domains: OrgDomainsTable;
    sso_link_confirmations: SsoLinkConfirmationsTable;
  }
}
