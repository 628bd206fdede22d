import { sql } from 'kysely';
import type { ActorType } from '../audit/actions.js';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { type Failure, fail } from '../errors/codes.js';
import { TOUCH_INTERVAL_MS } from '../sessions/model.js';
import type { SessionService } from '../sessions/service.js';
import type { SessionRow } from '../sessions/store.js';
import { orgIdleCutoff, orgSessionCapDecision } from './model.js';
import { type OrgRow, type OrgStore, policyOf } from './store.js';

/** A session's activity in one org (session_org_activity), as the gate reads it with the membership. */
export interface OrgActivity {
  lastActivityAt: Date;
  endedAt: Date | null;
}

export type ReachEndReason =
  | 'org_idle_timeout'
  | 'org_session_limit'
  | 'org_admin'
  | 'member_removed'
  | 'member_left'
  | 'org_deleted'
  | 'account_deleted'
  | 'scim_deprovisioned';

type SessionRef = Pick<SessionRow, 'id' | 'user_id' | 'org_id'>;

/**
 * A session's reach into one org, kept apart from the session itself: org policies (idle timeout,
 * session cap) and org admins end what a session does in their org, never the person's sign-in
 * to their account. A session bound to the org (SSO) has no other use, so it is revoked outright;
 * a personal session only loses this org and keeps working everywhere else.
 */
export class OrgSessionReach {
  constructor(
    private readonly store: OrgStore,
    private readonly sessions: SessionService,
  ) {}

  /**
   * The first request of a session in an org. Under a cap the user's row is locked first, so two
   * sessions entering at once count one after the other and cannot both slip under it. A refusal
   * leaves no row: the session may try again once another one has ended.
   */
  async enter(
    session: SessionRow,
    org: OrgRow,
    context: { ip: string | null; now: Date },
  ): Promise<Failure | null> {
    const { now } = context;
    if (org.max_concurrent_sessions === null) {
      await this.#insert(this.store.db, session, org.id, now);
      return null;
    }
    return this.store.db.transaction().execute(async (tx) => {
      await tx.selectFrom('users').select('id').where('id', '=', session.user_id).forUpdate().execute();
      const live = await this.#liveInOrg(tx, session, org, now);
      const decision = orgSessionCapDecision(live.length, {
        max: org.max_concurrent_sessions,
        onLimit: org.on_session_limit,
      });
      if (decision.refuse) {
        return fail(
          'CONFLICT',
          'You already have as many sessions in this org as it allows; sign out of one of them first.',
          { extra: { reason: 'org_session_limit' } },
        );
      }
      for (const oldest of live.slice(0, decision.endOldest)) {
        await this.end(tx, oldest, org.id, 'org_session_limit', {
          actor: { type: 'user', id: session.user_id },
          ip: context.ip,
          now,
        });
      }
      await this.#insert(tx, session, org.id, now);
      return null;
    });
  }

  /** Records activity in the org at most once a minute (the WHERE makes it a no-op otherwise). */
  async touch(sessionId: string, orgId: string, activity: OrgActivity, now: Date): Promise<void> {
    if (now.getTime() - activity.lastActivityAt.getTime() < TOUCH_INTERVAL_MS) return;
    await this.store.db
      .updateTable('session_org_activity')
      .set({ last_activity_at: now })
      .where('session_id', '=', sessionId)
      .where('org_id', '=', orgId)
      .where('ended_at', 'is', null)
      .where('last_activity_at', '<=', new Date(now.getTime() - TOUCH_INTERVAL_MS))
      .execute();
  }

  /** The org's idle timeout passed: the session's reach ends, audited in the org's chain. */
  async endIdle(
    session: SessionRef,
    orgId: string,
    context: { ip: string | null; now: Date },
  ): Promise<void> {
    await this.store.db
      .transaction()
      .execute((tx) =>
        this.end(tx, session, orgId, 'org_idle_timeout', { actor: { type: 'system', id: null }, ...context }),
      );
  }

  /**
   * Ends one session's reach into the org (recorded even if it never acted there, so a later
   * request cannot start afresh) with an `auth_session.revoked` row in the org's chain.
   */
  async end(
    tx: Tx,
    session: SessionRef,
    orgId: string,
    reason: ReachEndReason,
    audit: { actor: { type: ActorType; id: string | null }; ip: string | null; now: Date },
  ): Promise<void> {
    const { now } = audit;
    const bound = session.org_id === orgId;
    if (bound) {
      const revoked = await this.sessions.revokeById(tx, session.id, reason, now);
      await this.sessions.announceRevoked(tx, revoked, reason, now);
    }
    await tx
      .insertInto('session_org_activity')
      .values(activityRow(session, orgId, now, reason))
      .onConflict((oc) =>
        oc.columns(['session_id', 'org_id']).doUpdateSet({
          ended_at: sql`coalesce(session_org_activity.ended_at, excluded.ended_at)`,
          ended_reason: sql`coalesce(session_org_activity.ended_reason, excluded.ended_reason)`,
        }),
      )
      .execute();
    await appendAudit(tx, {
      orgId,
      action: 'auth_session.revoked',
      actor: audit.actor,
      target: { type: 'session', id: session.id },
      metadata: { userId: session.user_id, reason, scope: bound ? 'session' : 'org' },
      ip: audit.ip,
      now,
    });
  }

  /**
   * Ends every session's reach of a member who leaves or is removed: sessions bound to the org are
   * revoked (`revoked`); personal ones lose the org even if the person joins again later (`cutOff`).
   */
  async endAllOfUser(
    tx: Tx,
    userId: string,
    orgId: string,
    reason: ReachEndReason,
    now: Date,
  ): Promise<{ revoked: number; cutOff: number }> {
    const revoked = await this.#revokeBound(tx, userId, orgId, reason, now);
    const ended = await tx
      .updateTable('session_org_activity')
      .set({ ended_at: now, ended_reason: reason })
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .returning('session_id')
      .execute();
    return {
      revoked: revoked.length,
      cutOff: ended.filter((r) => !revoked.includes(r.session_id)).length,
    };
  }

  async #revokeBound(tx: Tx, userId: string, orgId: string, reason: ReachEndReason, now: Date) {
    const ids = await this.store.liveSessionIdsBoundTo(tx, userId, orgId);
    const revoked = [];
    for (const sessionId of ids)
      revoked.push(...(await this.sessions.revokeById(tx, sessionId, reason, now)));
    await this.sessions.announceRevoked(tx, revoked, reason, now);
    return revoked.map((r) => r.id);
  }

  async #insert(db: Tx, session: SessionRef, orgId: string, now: Date): Promise<void> {
    await db
      .insertInto('session_org_activity')
      .values(activityRow(session, orgId, now, null))
      .onConflict((oc) => oc.columns(['session_id', 'org_id']).doNothing())
      .execute();
  }

  /**
   * The user's other sessions that are live in this org, oldest first: the session itself live,
   * its reach not ended, and its activity here within the org's idle and absolute timeouts.
   */
  async #liveInOrg(tx: Tx, session: SessionRow, org: OrgRow, now: Date): Promise<SessionRef[]> {
    const policy = policyOf(org);
    let query = tx
      .selectFrom('session_org_activity as a')
      .innerJoin('sessions as s', 's.id', 'a.session_id')
      .select(['s.id', 's.user_id', 's.org_id'])
      .where('a.org_id', '=', org.id)
      .where('a.user_id', '=', session.user_id)
      .where('a.session_id', '!=', session.id)
      .where('a.ended_at', 'is', null)
      .where('a.last_activity_at', '>', orgIdleCutoff(policy, now))
      .where('s.revoked_at', 'is', null)
      .where('s.expires_at', '>', now)
      .where(sql<boolean>`s.last_seen_at + s.idle_timeout_minutes * interval '1 minute' > ${now}`);
    if (policy.absoluteTimeoutHours !== null) {
      query = query.where(
        's.created_at',
        '>',
        new Date(now.getTime() - policy.absoluteTimeoutHours * 3_600_000),
      );
    }
    return query.orderBy('s.created_at').orderBy('s.id').execute();
  }
}

/** A session's first row in an org, live (`ended` null) or already ended (recorded so it stays ended). */
function activityRow(session: SessionRef, orgId: string, now: Date, ended: ReachEndReason | null) {
  return {
    session_id: session.id,
    org_id: orgId,
    user_id: session.user_id,
    first_seen_at: now,
    last_activity_at: now,
    ended_at: ended ? now : null,
    ended_reason: ended,
  };
}
