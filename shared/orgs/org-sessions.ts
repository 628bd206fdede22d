import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { SessionRow } from '../sessions/store.js';
import { type OrgPolicy, orgIdleCutoff } from './model.js';
import type { OrgSessionReach } from './session-reach.js';
import { type OrgStore, policyOf } from './store.js';

export interface OrgSessionFilter {
  userId?: string;
  deviceId?: string;
  /** ISO 3166-1 alpha-2 of where the session signed in. */
  country?: string;
  active?: boolean;
  after?: { createdAt: Date; id: string };
  limit: number;
}

export type OrgSessionRow = SessionRow & { active: boolean };

/**
 * The admin view of an org's sessions: those of current members bound to the org (SSO) and those
 * that have acted in it (session_org_activity) — never a member's other sessions: joining an org
 * must not show its admins where else the person signs in from. `lastSeenAt` is the last activity
 * in this org. Newest first, paged by the (created_at, id) key.
 */
export class OrgSessionAdmin {
  constructor(
    private readonly store: OrgStore,
    private readonly reach: OrgSessionReach,
  ) {}

  async list(orgId: string, filter: OrgSessionFilter, now: Date): Promise<OrgSessionRow[]> {
    const org = await this.store.db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
    if (!org) return [];
    const active = activeAt(now, policyOf(org));
    let query = this.#visible(this.store.db, orgId)
      .selectAll('sessions')
      .select([
        sql<Date>`coalesce(activity.last_activity_at, sessions.last_seen_at)`.as('org_last_seen_at'),
        active.as('active'),
      ]);
    if (filter.userId) query = query.where('sessions.user_id', '=', filter.userId);
    if (filter.deviceId) query = query.where('sessions.device_id', '=', filter.deviceId);
    if (filter.country) query = query.where('sessions.country', '=', filter.country);
    if (filter.active !== undefined) query = query.where(active, '=', filter.active);
    const after = filter.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('sessions.created_at', '<', after.createdAt),
          eb.and([eb('sessions.created_at', '=', after.createdAt), eb('sessions.id', '<', after.id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('sessions.created_at', 'desc')
      .orderBy('sessions.id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map(({ org_last_seen_at, ...row }) => ({ ...row, last_seen_at: org_last_seen_at }));
  }

  /**
   * Ends one session's reach into the org, if the org can see it (false otherwise: another org's
   * → 404). A session bound to the org is revoked; a personal one only loses this org — an org
   * admin never signs a member out of their own account.
   */
  async revoke(
    orgId: string,
    actor: { type: 'user' | 'api_key'; id: string; ip: string | null },
    sessionId: string,
    now: Date,
  ): Promise<boolean> {
    return this.store.db.transaction().execute(async (tx) => {
      const visible = await this.#visible(tx, orgId)
        .select([
          'sessions.id',
          'sessions.user_id',
          'sessions.org_id',
          'sessions.revoked_at',
          'activity.ended_at',
        ])
        .where('sessions.id', '=', sessionId)
        .executeTakeFirst();
      if (!visible) return false;
      if (visible.revoked_at || visible.ended_at) return true;
      await this.reach.end(tx, visible, orgId, 'org_admin', {
        actor: { type: actor.type, id: actor.id },
        ip: actor.ip,
        now,
      });
      return true;
    });
  }

  /** Sessions of current members that are bound to the org or have acted in it. */
  #visible(db: Tx, orgId: string) {
    return db
      .selectFrom('sessions')
      .innerJoin('memberships', 'memberships.user_id', 'sessions.user_id')
      .leftJoin('session_org_activity as activity', (join) =>
        join.onRef('activity.session_id', '=', 'sessions.id').on('activity.org_id', '=', orgId),
      )
      .where('memberships.org_id', '=', orgId)
      .where((eb) => eb.or([eb('sessions.org_id', '=', orgId), eb('activity.session_id', 'is not', null)]));
  }
}

/**
 * Same rule as sessionState() (not revoked, not past expiry, not idle), and able to act in the org
 * now: its reach not ended, its activity here within the org's idle timeout, its login within the
 * org's absolute timeout.
 */
function activeAt(now: Date, policy: OrgPolicy) {
  const idleCutoff = orgIdleCutoff(policy, now);
  const loginCutoff =
    policy.absoluteTimeoutHours === null
      ? null
      : new Date(now.getTime() - policy.absoluteTimeoutHours * 3_600_000);
  return sql<boolean>`(sessions.revoked_at is null and activity.ended_at is null and sessions.expires_at > ${now} and sessions.last_seen_at + sessions.idle_timeout_minutes * interval '1 minute' > ${now} and coalesce(activity.last_activity_at, sessions.last_seen_at) > ${idleCutoff} and (${loginCutoff}::timestamptz is null or sessions.created_at > ${loginCutoff}))`;
}
