import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import '../orgs/tables.js';
import type { OrgDomainsTable } from './tables.js';
import './tables.js';

export interface OrgDomain {
  domain: string;
  txtToken: string;
  verifiedAt: Date | null;
  createdAt: Date;
}

/** The org that verified a domain, with the policy that decides sign-in for its accounts. */
export interface DomainHolder {
  orgId: string;
  orgSlug: string;
  enforceSso: boolean;
  allowBreakGlass: boolean;
}

function toDomain(row: OrgDomainsTable): OrgDomain {
  return {
    domain: row.domain,
    txtToken: row.txt_token,
    verifiedAt: row.verified_at,
    createdAt: row.created_at,
  };
}

/** Claimed and verified org domains, named by intent. */
export class DomainStore {
  constructor(readonly db: Db) {}

  async list(orgId: string): Promise<OrgDomain[]> {
    const rows = await this.db
      .selectFrom('org_domains')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('domain')
      .execute();
    return rows.map(toDomain);
  }

  async find(tx: Tx | Db, orgId: string, domain: string): Promise<OrgDomain | null> {
    const row = await tx
      .selectFrom('org_domains')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('domain', '=', domain)
      .executeTakeFirst();
    return row
      ? {
          domain: row.domain,
          txtToken: row.txt_token,
          verifiedAt: row.verified_at,
          createdAt: row.created_at,
        }
      : null;
  }

  /** The org holding `domain` verified, if any. */
  async holder(domain: string, db: Tx | Db = this.db): Promise<DomainHolder | null> {
    const row = await db
      .selectFrom('org_domains')
      .innerJoin('orgs', 'orgs.id', 'org_domains.org_id')
      .select(['orgs.id', 'orgs.slug', 'orgs.enforce_sso', 'orgs.allow_break_glass'])
      .where('org_domains.domain', '=', domain)
      .where('org_domains.verified_at', 'is not', null)
      .executeTakeFirst();
    return row
      ? {
          orgId: row.id,
          orgSlug: row.slug,
          enforceSso: row.enforce_sso,
          allowBreakGlass: row.allow_break_glass,
        }
      : null;
  }

  /** False when the org already claimed it (pending or verified). */
  async claim(
    tx: Tx,
    input: { orgId: string; domain: string; txtToken: string; createdBy: string },
    now: Date,
  ): Promise<boolean> {
    const row = await tx
      .insertInto('org_domains')
      .values({
        org_id: input.orgId,
        domain: input.domain,
        txt_token: input.txtToken,
        verified_at: null,
        created_by: input.createdBy,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['org_id', 'domain']).doNothing())
      .returning('domain')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Marks the claim verified unless another org holds the domain. The `not exists` settles the
   * usual case; two orgs verifying at the same instant meet the partial unique index, and the
   * savepoint turns the loser's violation into "taken" without spoiling its transaction.
   */
  async markVerified(tx: Tx, orgId: string, domain: string, now: Date): Promise<'verified' | 'taken'> {
    try {
      await sql`savepoint mark_domain_verified`.execute(tx);
      const updated = await tx
        .updateTable('org_domains')
        .set({ verified_at: now })
        .where('org_id', '=', orgId)
        .where('domain', '=', domain)
        .where('verified_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('org_domains as other')
                .select('other.domain')
                .where('other.domain', '=', domain)
                .where('other.org_id', '<>', orgId)
                .where('other.verified_at', 'is not', null),
            ),
          ),
        )
        .executeTakeFirst();
      await sql`release savepoint mark_domain_verified`.execute(tx);
      return Number(updated.numUpdatedRows) > 0 ? 'verified' : 'taken';
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      await sql`rollback to savepoint mark_domain_verified`.execute(tx);
      return 'taken';
    }
  }

  async remove(tx: Tx, orgId: string, domain: string): Promise<boolean> {
    const removed = await tx
      .deleteFrom('org_domains')
      .where('org_id', '=', orgId)
      .where('domain', '=', domain)
      .executeTakeFirst();
    return Number(removed.numDeletedRows) > 0;
  }

  /** Whether `userId` is an owner of `orgId` (break-glass is for owners only). */
  async isOwner(orgId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('memberships')
      .select('role')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.role === 'owner';
  }
}
