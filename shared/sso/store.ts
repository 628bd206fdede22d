import { z } from 'zod';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import '../orgs/tables.js';
import type { OrgSsoConfigsTable } from './tables.js';
import './tables.js';

const domainsSchema = z.array(z.string());

export interface SsoConfig {
  orgId: string;
  orgSlug: string;
  issuerUrl: string;
  clientId: string;
  clientSecretSealed: string;
  allowedDomains: string[];
  defaultRole: OrgSsoConfigsTable['default_role'];
  passwordLoginAllowed: boolean;
  protocol: 'oidc' | 'saml';
  /** SAML: the IdP's HTTP-Redirect SSO endpoint and signing certificates (base64 DER). */
  saml: { ssoUrl: string; certs: string[] } | null;
  updatedAt: Date;
}

function toConfig(row: OrgSsoConfigsTable & { slug: string }): SsoConfig {
  return {
    orgId: row.org_id,
    orgSlug: row.slug,
    issuerUrl: row.issuer_url,
    clientId: row.client_id,
    clientSecretSealed: row.client_secret_sealed,
    allowedDomains: domainsSchema.parse(row.allowed_domains),
    defaultRole: row.default_role,
    passwordLoginAllowed: row.password_login_allowed,
    protocol: row.protocol ?? 'oidc',
    saml:
      row.protocol === 'saml' && row.saml_sso_url
        ? { ssoUrl: row.saml_sso_url, certs: domainsSchema.parse(row.saml_certs) }
        : null,
    updatedAt: row.updated_at,
  };
}

/** Per-org SSO settings and provider identities, named by intent. */
export class SsoStore {
  constructor(readonly db: Db) {}

  private base(db: Db | Tx) {
    // A deleted org's SSO signs nobody in, from the moment of deletion (its settings go at the purge).
    return db
      .selectFrom('org_sso_configs')
      .innerJoin('orgs', 'orgs.id', 'org_sso_configs.org_id')
      .where('orgs.deleted_at', 'is', null);
  }

  async byOrgId(orgId: string, db: Db | Tx = this.db): Promise<SsoConfig | null> {
    const row = await this.base(db)
      .selectAll('org_sso_configs')
      .select('orgs.slug')
      .where('org_sso_configs.org_id', '=', orgId)
      .executeTakeFirst();
    return row ? toConfig(row) : null;
  }

  async bySlug(slug: string): Promise<SsoConfig | null> {
    const row = await this.base(this.db)
      .selectAll('org_sso_configs')
      .select('orgs.slug')
      .where('orgs.slug', '=', slug)
      .executeTakeFirst();
    return row ? toConfig(row) : null;
  }

  async upsert(
    tx: Tx,
    input: Omit<OrgSsoConfigsTable, 'created_at' | 'updated_at' | 'allowed_domains'> & {
      allowed_domains: string[];
    },
    now: Date,
  ): Promise<void> {
    const values = {
      protocol: 'oidc' as const,
      saml_sso_url: null,
      ...input,
      allowed_domains: JSON.stringify(input.allowed_domains),
      saml_certs: input.saml_certs === undefined ? null : JSON.stringify(input.saml_certs),
      updated_at: now,
    };
    await tx
      .insertInto('org_sso_configs')
      .values({ ...values, created_at: now })
      .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
      .execute();
  }

  async remove(tx: Tx, orgId: string): Promise<boolean> {
    const removed = await tx.deleteFrom('org_sso_configs').where('org_id', '=', orgId).executeTakeFirst();
    return Number(removed.numDeletedRows) > 0;
  }

  /** The user an identity of the org's current provider is linked to, if any. */
  async identity(tx: Tx, orgId: string, issuer: string, subject: string): Promise<string | null> {
    const row = await tx
      .selectFrom('sso_identities')
      .select('user_id')
      .where('org_id', '=', orgId)
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row?.user_id ?? null;
  }

  /**
   * Links the identity to `userId`, or records a sign-in through it; answers the user it is linked
   * to, which is someone else's only when they linked it first (the caller checks).
   */
  async link(
    tx: Tx,
    identity: { orgId: string; issuer: string; subject: string },
    userId: string,
    now: Date,
  ): Promise<string> {
    const row = await tx
      .insertInto('sso_identities')
      .values({
        org_id: identity.orgId,
        issuer: identity.issuer,
        subject: identity.subject,
        user_id: userId,
        created_at: now,
        last_login_at: now,
      })
      .onConflict((oc) => oc.columns(['org_id', 'issuer', 'subject']).doUpdateSet({ last_login_at: now }))
      .returning('user_id')
      .executeTakeFirstOrThrow();
    return row.user_id;
  }

  /** Forgets the user's other identities at this org's provider: one identity per user and org. */
  async unlinkUser(tx: Tx, orgId: string, userId: string): Promise<void> {
    await tx.deleteFrom('sso_identities').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
  }

  /** Drops the org's identities of any provider but `issuer` (the org moved its SSO elsewhere). */
  async dropOtherIssuers(tx: Tx, orgId: string, issuer: string): Promise<number> {
    const dropped = await tx
      .deleteFrom('sso_identities')
      .where('org_id', '=', orgId)
      .where('issuer', '<>', issuer)
      .executeTakeFirst();
    return Number(dropped.numDeletedRows);
  }
}
