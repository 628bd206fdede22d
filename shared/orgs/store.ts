import { type Selectable, sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { aaguidListSchema } from '../passkeys/model.js';
import '../accounts/tables.js';
import '../keys/tables.js';
import '../scim/tables.js';
import { atLeast, invitationSurvives, keySurvives, type OrgPolicy, type OrgRole } from './model.js';
import type { OrgActivity } from './session-reach.js';
import type { OrgsTable } from './tables.js';
import '../sessions/tables.js';
import './tables.js';
import '../sso/tables.js';
import '../webhooks/tables.js';

export type OrgRow = Selectable<OrgsTable>;

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
    enforceSso: org.enforce_sso,
    allowBreakGlass: org.allow_break_glass,
    requirePasskey: org.require_passkey,
    allowedAaguids: aaguidListSchema
      .nullable()
      .parse(
        typeof org.allowed_aaguids === 'string'
          ? JSON.parse(org.allowed_aaguids)
          : (org.allowed_aaguids ?? null),
      ),
  };
}

/** Org and membership persistence, named by intent. Ids reaching here are uuid-shaped (checked at the edge of the domain). */
export class OrgStore {
  constructor(readonly db: Db) {}

  /**
   * Membership, the org's policy and the session's activity in this org, in one indexed read:
   * the per-request gate's whole cost.
   */
  async accessFor(
    orgId: string,
    userId: string,
    sessionId: string,
  ): Promise<{
    role: OrgRole;
    expiresAt: Date | null;
    org: OrgRow;
    activity: OrgActivity | null;
    ssoRequired: boolean;
  } | null> {
    const row = await this.db
      .selectFrom('memberships')
      .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
      .leftJoin('session_org_activity as activity', (join) =>
        join.onRef('activity.org_id', '=', 'memberships.org_id').on('activity.session_id', '=', sessionId),
      )
      .leftJoin('org_sso_configs', 'org_sso_configs.org_id', 'memberships.org_id')
      .selectAll('orgs')
      .select([
        'memberships.role as member_role',
        'memberships.expires_at as member_expires_at',
        'activity.last_activity_at as activity_last_at',
        'activity.ended_at as activity_ended_at',
        'org_sso_configs.password_login_allowed as sso_password_login_allowed',
      ])
      .where('memberships.org_id', '=', orgId)
      .where('memberships.user_id', '=', userId)
      // A deleted org is gone for everyone until it is restored: 404 on every org route.
      .where('orgs.deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) return null;
    const {
      member_role,
      member_expires_at,
      activity_last_at,
      activity_ended_at,
      sso_password_login_allowed,
      ...org
    } = row;
    const activity = activity_last_at
      ? { lastActivityAt: activity_last_at, endedAt: activity_ended_at }
      : null;
    // An org whose SSO settings refuse other sign-ins is "SSO-only" (the gate enforces it).
    const ssoRequired = sso_password_login_allowed === false;
    return { role: member_role, expiresAt: member_expires_at, org, activity, ssoRequired };
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
      .where('orgs.deleted_at', 'is', null)
      .where((eb) =>
        eb.or([eb('memberships.expires_at', 'is', null), eb('memberships.expires_at', '>', now)]),
      )
      .orderBy('orgs.name')
      .orderBy('orgs.id')
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

  /**
   * Revokes what a member made beyond their new role (null: no longer a member): API keys they
   * created above it, invitations they could not send now (keySurvives, invitationSurvives), SCIM
   * tokens below owner and webhook endpoints below admin. Runs in the transaction of the role change or removal; returns what ended, for its audit row.
   */
  async withdrawBeyondReach(
    tx: Tx,
    orgId: string,
    userId: string,
    newRole: OrgRole | null,
    /** The user who made the change; null when the org's SCIM token did. */
    by: string | null,
    now: Date,
  ) {
    const keys = await tx
      .selectFrom('api_keys')
      .select(['id', 'name', 'role', 'display_prefix'])
      .where('org_id', '=', orgId)
      .where('created_by', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    const keysRevoked = keys.filter((k) => !keySurvives(newRole, k.role));
    if (keysRevoked.length > 0) {
      await tx
        .updateTable('api_keys')
        .set({ revoked_at: now, revoked_by: by })
        .where(
          'id',
          'in',
          keysRevoked.map((k) => k.id),
        )
        .execute();
    }
    const invitations = await tx
      .selectFrom('invitations')
      .select(['id', 'role'])
      .where('org_id', '=', orgId)
      .where('invited_by', '=', userId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
    const invitationsRevoked = invitations.filter((i) => !invitationSurvives(newRole, i.role));
    if (invitationsRevoked.length > 0) {
      await tx
        .updateTable('invitations')
        .set({ revoked_at: now, revoked_reason: newRole === null ? 'inviter_removed' : 'inviter_demoted' })
        .where(
          'id',
          'in',
          invitationsRevoked.map((i) => i.id),
        )
        .execute();
    }
    // SCIM tokens are an owner's credential (admin-level provisioning): they go with the owner role.
    const scimTokensRevoked =
      newRole === 'owner'
        ? []
        : await tx
            .updateTable('scim_tokens')
            .set({ revoked_at: now, revoked_by: by })
            .where('org_id', '=', orgId)
            .where('created_by', '=', userId)
            .where('revoked_at', 'is', null)
            .returning(['id', 'display_prefix'])
            .execute();
    // A webhook endpoint is a standing read of the org's events at a URL its creator chose: below
    // admin it stops, until a current admin turns it back on (and so takes it over).
    const webhooksDisabled =
      newRole !== null && atLeast(newRole, 'admin')
        ? []
        : await tx
            .updateTable('webhook_endpoints')
            .set({ enabled: false, disabled_reason: 'creator_removed', updated_at: now })
            .where('org_id', '=', orgId)
            .where('created_by', '=', userId)
            .where('enabled', '=', true)
            .returning('id')
            .execute();
    return {
      ...(webhooksDisabled.length > 0 ? { webhooksDisabled: webhooksDisabled.map((w) => w.id) } : {}),
      ...(scimTokensRevoked.length > 0
        ? { scimTokensRevoked: scimTokensRevoked.map((t) => ({ id: t.id, prefix: t.display_prefix })) }
        : {}),
      keysRevoked: keysRevoked.map((k) => ({
        id: k.id,
        name: k.name,
        role: k.role,
        prefix: k.display_prefix,
      })),
      invitationsRevoked: invitationsRevoked.map((i) => ({ id: i.id, role: i.role })),
    };
  }
}
