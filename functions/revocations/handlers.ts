import type { TopicHandlers } from '../../shared/bus/consumer.js';
import { forgetProcessedEvents } from '../../shared/bus/maintenance.js';
import type { Tx } from '../../shared/bus/outbox.js';
import type { Logger } from '../../shared/log/logger.js';
import type { AuditChainExpiry } from '../../shared/orgs/deletion.js';
import type { RetentionSettings } from '../../shared/retention/policy.js';
import { purgeExpiredData } from '../../shared/retention/sweep.js';
import { ABSOLUTE_LIFETIME_MS } from '../../shared/sessions/model.js';
import type { RevocationFeed } from '../../shared/sessions/revocation-feed.js';
import { forgetExpiredSsoState } from '../../shared/sso/maintenance.js';
import type { Clock } from '../../shared/time/clock.js';

export interface RevocationsDeps {
  feedIn: (tx: Tx) => RevocationFeed;
  /** Rate-limit windows, when they live in PostgreSQL (Firestore expires them by its TTL policy). */
  rateLimitsIn: ((tx: Tx) => { sweep(now: Date): Promise<number> }) | null;
  /**
   * Purges deleted orgs past their grace period, then deletes the closed audit chains of orgs
   * purged more than AUDIT_RETENTION_DAYS ago (shared/orgs/deletion.ts), each in its own transaction.
   */
  orgPurge: {
    purgeDue(now: Date): Promise<string[]>;
    expireAuditChains(now: Date): Promise<AuditChainExpiry>;
  };
  retention: RetentionSettings;
  clock: Clock;
  logger: Logger;
}

/**
 * Pushes each revoked session to the live feed under its stream key. An entry lives as long as
 * the session could have (the 14-day cap), after which nobody can still be listening with it.
 * A feed failure throws, so the bus redelivers; publishing is idempotent.
 */
export function revocationsHandlers(deps: RevocationsDeps): TopicHandlers {
  return {
    'session-revoked': async (envelope, tx) => {
      const revokedAt = new Date(envelope.time);
      await deps.feedIn(tx).publish({
        streamKey: envelope.data.streamKey,
        revokedAt,
        reason: envelope.data.reason,
        expiresAt: new Date(revokedAt.getTime() + ABSOLUTE_LIFETIME_MS),
      });
      deps.logger.info('revocation published', {
        sessionId: envelope.data.sessionId,
        reason: envelope.data.reason,
      });
    },
    /**
     * Hourly housekeeping of expiring state: revocation-feed entries past their session's lifetime,
     * rate-limit windows nobody touched for a whole window, and event ids no redelivery can carry
     * any more, expired SAML requests, assertion ids and SSO link confirmations, and personal data
     * past its retention (shared/retention). The consumer drains the outbox after every event, so
     * this tick also publishes anything a failed publish left behind. Then, once the tick is claimed
     * and outside its transaction (each org gets its own), deleted orgs past their grace period are purged
     * and the closed audit chains of orgs purged longer ago than AUDIT_RETENTION_DAYS are deleted.
     */
    'maintenance-sweep': async (_envelope, tx) => {
      const now = deps.clock.now();
      const revocations = await deps.feedIn(tx).sweep(now);
      const rateLimitWindows = (await deps.rateLimitsIn?.(tx).sweep(now)) ?? 0;
      const processedEvents = await forgetProcessedEvents(tx, now);
      const expired = await purgeExpiredData(tx, now, deps.retention);
      const sso = await forgetExpiredSsoState(tx, now);
      deps.logger.info('maintenance sweep', {
        revocations,
        rateLimitWindows,
        processedEvents,
        expired,
        ...sso,
      });
      return async () => {
        const orgsPurged = await deps.orgPurge.purgeDue(now);
        if (orgsPurged.length > 0) deps.logger.info('deleted orgs purged', { orgIds: orgsPurged });
        const chains = await deps.orgPurge.expireAuditChains(now);
        if (chains.expired.length > 0)
          deps.logger.info('expired audit chains deleted', { chains: chains.expired });
        // Due by the tombstone but declined by the database: someone should look at these chains.
        if (chains.declined.length > 0) {
          deps.logger.warn('expired audit chains kept: not closed by the purge', { orgIds: chains.declined });
        }
      };
    },
  };
}
