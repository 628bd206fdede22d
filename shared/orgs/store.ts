import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import '../accounts/tables.js';
import type { OrgPolicy, OrgRole } from './model.js';
import type { OrgsTable } from './tables.js';
import '../sessions/tables.js';
import './tables.js';
import '../sso/tables.js';

export type OrgRow = OrgsTable;

export interface MemberRow {
  userId: string;
  email: string;
  role: OrgRole;
  expiresAt: Date | null;
}

export function policyOf(org: OrgRow): OrgPolicy {
  return {
    maxConcurrentSessions: org.max_concurrent_sessions,
    idleTimeoutMinutes: org.idle_timeout_minutes,
    absoluteTimeoutHours: org.absolute_timeout_hours,
    requireMfa: org.require_mfa,
    enterprise: org.enterprise,
    onLimit: org.on_session_limit,
  };
}

/** Org and membership persistence, named by intent. Ids reaching here are uuid-shaped (checked at the edge of the domain). */
export class OrgStore {
  constructor(readonly db: Db) {}

  /** Membership and the org's policy in one indexed read: the per-request gate's whole cost. */
  async accessFor(
    orgId: string,
    userId: string,
  ): Promise<{ role: OrgRole; expiresAt: Date | null; org: OrgRow; ssoRequired: boolean } | null> {
    const row = await this.db
      .selectFrom('memberships')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .leftJoin('org_sso_configs', 'org_sso_configs.org_id', 'memberships.org_id')
      .selectAll('orgs')
      .select(['memberships.role as member_role', 'memberships.expires_at as member_expires_at'])
      .select('org_sso_configs.password_login_allowed as sso_password_login_allowed')
      .where('memberships.org_id', '=', orgId)
      .where('memberships.user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return null;
    const { member_role, member_expires_at, sso_password_login_allowed, ...org } = row;
    // An org whose SSO settings refuse other sign-ins is "SSO-only" (the gate enforces it).
    const ssoRequired = sso_password_login_allowed === false;
    return { role: member_role, expiresAt: member_expires_at, org, ssoRequired };
  }

  /** Locks the org row: every owner-count check and policy change on one org queues behind it. */
  async lockOrg(tx: Tx, orgId: string): Promise<OrgRow | null> {
    return (
      (await tx.selectFrom('orgs').selectAll().where('id', '=', orgId).forUpdate().executeTakeFirst()) ?? null
    );
  }

  async membership(tx: Tx, orgId: string, userId: string) {
    return (
      (await tx
        .selectFrom('memberships')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('user_id', '=', userId)
        .executeTakeFirst()) ?? null
    );
  }

  /** Owners whose membership never expires, other than `exceptUserId`: the org must always keep one. */
  async permanentOwnersOtherThan(tx: Tx, orgId: string, exceptUserId: string): Promise<number> {
    const row = await tx
      .selectFrom('memberships')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('org_id', '=', orgId)
      .where('role', '=', 'owner')
      .where('expires_at', 'is', null)
      .where('user_id', '!=', exceptUserId)
      .executeTakeFirstOrThrow();
    return row.n;
  }

  async members(orgId: string): Promise<MemberRow[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.user_id', 'users.email', 'memberships.role', 'memberships.expires_at'])
      .where('memberships.org_id', '=', orgId)
      .orderBy('memberships.created_at')
      .orderBy('memberships.user_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, email: r.email, role: r.role, expiresAt: r.expires_at }));
  }

  /** The user's orgs where the membership is still in force. */
  async orgsOf(userId: string, now: Date) {
    return this.db
      .selectFrom('memberships')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .select(['orgs.id', 'orgs.name', 'orgs.slug', 'memberships.role', 'memberships.expires_at'])
      .where('memberships.user_id', '=', userId)
      .where((eb) =>
        eb.or([eb('memberships.expires_at', 'is', null), eb('memberships.expires_at', '>', now)]),
      )
      .orderBy('orgs.name')
      .orderBy('orgs.id')
      .execute();
  }

  /** Session caps of the orgs the user is an active member of (for the login hook). */
  async sessionCapsOf(tx: Tx, userId: string, now: Date) {
    return tx
      .selectFrom('memberships')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .select(['orgs.id', 'orgs.max_concurrent_sessions', 'orgs.on_session_limit'])
      .where('memberships.user_id', '=', userId)
      .where('orgs.max_concurrent_sessions', 'is not', null)
      .where((eb) =>
        eb.or([eb('memberships.expires_at', 'is', null), eb('memberships.expires_at', '>', now)]),
      )
      .execute();
  }

  /** A user's live sessions started for this org (SSO / org login); personal sessions have org_id null. */
  async liveSessionIdsBoundTo(tx: Tx, userId: string, orgId: string): Promise<string[]> {
    const rows = await tx
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('org_id', '=', orgId)
      .where('revoked_at', 'is', null)
      .execute();
    return rows.map((r) => r.id);
  }
}
