import type { TopicHandlers } from '../../shared/bus/consumer.js';
import type { WebhookDeliverer } from '../../shared/webhooks/deliverer.js';

/**
 * `webhook-deliveries`: a message naming a delivery sends it (and whatever else is due for its
 * endpoint); the minute tick (no id) sends the retries that came due. The sending happens after
 * the consumer's transaction, which only records the event id: it holds no connection while it
 * waits on someone else's server. A delivery's outcome is recorded, not thrown, so Pub/Sub
 * redelivers only when our own database failed.
 */
export function webhooksHandlers(deliverer: Pick<WebhookDeliverer, 'deliver' | 'sweep'>): TopicHandlers {
  return {
    'webhook-deliveries': async (envelope) => {
      const { deliveryId } = envelope.data;
      return async () => {
        if (deliveryId) await deliverer.deliver(deliveryId);
        else await deliverer.sweep();
      };
    },
  };
}
