import { sql } from 'kysely';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { type Failure, fail } from '../errors/codes.js';
import type { SessionService } from '../sessions/service.js';
import { sessionLimitDecision } from './model.js';
import type { OrgStore } from './store.js';

/**
 * `maxConcurrentSessions`, enforced at login (the hook in shared/accounts/login.ts), inside the
 * login's transaction. The user's row is locked first, so two simultaneous logins of one user
 * count one after the other and cannot both slip under the cap.
 */
export class SessionLimit {
  constructor(
    private readonly store: OrgStore,
    private readonly sessions: SessionService,
  ) {}

  async beforeSessionStart(
    tx: Tx,
    login: { userId: string; method: string; ip: string | null; now: Date },
  ): Promise<Failure | null> {
    const { userId, ip, now } = login;
    await tx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
    const caps = await this.store.sessionCapsOf(tx, userId, now);
    if (caps.length === 0) return null;
    const live = await tx
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where(sql<boolean>`last_seen_at + idle_timeout_minutes * interval '1 minute' > ${now}`)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const decision = sessionLimitDecision(
      live.length,
      caps.map((c) => ({
        max: c.max_concurrent_sessions ?? Number.POSITIVE_INFINITY,
        onLimit: c.on_session_limit,
      })),
    );
    if (decision.refuse) {
      await appendAudit(tx, {
        userId,
        action: 'login.failed',
        actor: { type: 'user', id: userId },
        metadata: { method: login.method, reason: 'org_session_limit' },
        ip,
        now,
      });
      return fail(
        'CONFLICT',
        'You have reached the number of concurrent sessions your org allows; sign out elsewhere first.',
      );
    }
    for (const oldest of live.slice(0, decision.revokeOldest)) {
      const revoked = await this.sessions.revokeById(tx, oldest.id, 'org_session_limit', now);
      await this.sessions.announceRevoked(tx, revoked, 'org_session_limit', now, { actorId: userId, ip });
    }
    return null;
  }
}
