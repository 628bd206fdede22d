import type { TopicHandlers } from '../../shared/bus/consumer.js';
import type { KeyRing } from '../../shared/crypto/seal.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Mailer } from '../../shared/mail/mailer.js';
import { openMail } from '../../shared/mail/queue.js';

export interface NotifyDeps {
  mailer: Mailer;
  mailKeys: () => Promise<KeyRing>;
  logger: Logger;
}

/**
 * Sends queued mail and raises security alerts. A mail that does not open (wrong key, tampered)
 * is dropped with an error log: redelivery could never fix it. A send failure throws, so the bus
 * redelivers and, in the end, dead-letters it.
 */
export function notifyHandlers(deps: NotifyDeps): TopicHandlers {
  return {
    'mail-outbox': async (envelope) => {
      const message = openMail(await deps.mailKeys(), envelope.data.sealed);
      if (!message) {
        deps.logger.error('dropping mail that does not open with the mail key', { eventId: envelope.id });
        return;
      }
      await deps.mailer.send(message);
    },
    'security-events': async (envelope) => {
      // An ERROR line with `alert` is what the log-based alert policy in infra/ watches for.
      deps.logger.error('security alert', {
        alert: envelope.data.kind,
        orgId: envelope.orgId,
        eventId: envelope.id,
        ...envelope.data.detail,
      });
    },
  };
}
