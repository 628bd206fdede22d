import type { TopicHandlers } from '../../shared/bus/consumer.js';
import type { Tx } from '../../shared/bus/outbox.js';
import type { Logger } from '../../shared/log/logger.js';
import { ABSOLUTE_LIFETIME_MS } from '../../shared/sessions/model.js';
import type { RevocationFeed } from '../../shared/sessions/revocation-feed.js';

export interface RevocationsDeps {
  feedIn: (tx: Tx) => RevocationFeed;
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
  };
}
