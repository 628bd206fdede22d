import { sql } from 'kysely';
import { appendAudit } from '../audit/append.js';
import type { SessionService } from '../sessions/service.js';
import type { SessionRow } from '../sessions/store.js';
import type { OrgStore } from './store.js';

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
 * The admin view of an org's sessions: every session of a current member that can act in the
 * org — their personal sessions (org_id null) and those started for this org — but never one
 * bound to another org. Newest first, paged by the (created_at, id) key.
 */
export class OrgSessionAdmin {
  constructor(
    private readonly store: OrgStore,
    private readonly sessions: SessionService,
  ) {}

  async list(orgId: string, filter: OrgSessionFilter, now: Date): Promise<OrgSessionRow[]> {
    let query = this.store.db
      .selectFrom('sessions')
      .innerJoin('memberships', 'memberships.user_id', 'sessions.user_id')
      .selectAll('sessions')
      .select(activeAt(now).as('active'))
      .where('memberships.org_id', '=', orgId)
      .where((eb) => eb.or([eb('sessions.org_id', 'is', null), eb('sessions.org_id', '=', orgId)]));
    if (filter.userId) query = query.where('sessions.user_id', '=', filter.userId);
    if (filter.deviceId) query = query.where('sessions.device_id', '=', filter.deviceId);
    if (filter.country) query = query.where('sessions.country', '=', filter.country);
    if (filter.active !== undefined) query = query.where(activeAt(now), '=', filter.active);
    const after = filter.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('sessions.created_at', '<', after.createdAt),
          eb.and([eb('sessions.created_at', '=', after.createdAt), eb('sessions.id', '<', after.id)]),
        ]),
      );
    }
    return query
      .orderBy('sessions.created_at', 'desc')
      .orderBy('sessions.id', 'desc')
      .limit(filter.limit)
      .execute();
  }

  /** Revokes one session the org can see; false when it cannot see it (another org's → 404). */
  async revoke(
    orgId: string,
    actor: { type: 'user' | 'api_key'; id: string; ip: string | null },
    sessionId: string,
    now: Date,
  ): Promise<boolean> {
    return this.store.db.transaction().execute(async (tx) => {
      const visible = await tx
        .selectFrom('sessions')
        .innerJoin('memberships', 'memberships.user_id', 'sessions.user_id')
        .select(['sessions.id', 'sessions.user_id'])
        .where('memberships.org_id', '=', orgId)
        .where('sessions.id', '=', sessionId)
        .where((eb) => eb.or([eb('sessions.org_id', 'is', null), eb('sessions.org_id', '=', orgId)]))
        .executeTakeFirst();
      if (!visible) return false;
      const revoked = await this.sessions.revokeById(tx, sessionId, 'org_admin', now);
      await this.sessions.announceRevoked(tx, revoked, 'org_admin', now);
      if (revoked.length > 0) {
        await appendAudit(tx, {
          orgId,
          action: 'auth_session.revoked',
          actor: { type: actor.type, id: actor.id },
          target: { type: 'session', id: sessionId },
          metadata: { userId: visible.user_id, reason: 'org_admin' },
          ip: actor.ip,
          now,
        });
      }
      return true;
    });
  }
}

/** Same rule as sessionState(): not revoked, not past expiry, not idle. */
function activeAt(now: Date) {
  return sql<boolean>`(sessions.revoked_at is null and sessions.expires_at > ${now} and sessions.last_seen_at + sessions.idle_timeout_minutes * interval '1 minute' > ${now})`;
}
