import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { consumer } from '../../shared/bus/consumer.js';
import { createOutboundFetch } from '../../shared/outbound/client.js';
import { perPlatform } from '../../shared/runtime/platform.js';
import { WebhookDeliverer } from '../../shared/webhooks/deliverer.js';
import { webhookKeyRing } from '../../shared/webhooks/keys.js';
import { WEBHOOK_OUTBOUND } from '../../shared/webhooks/model.js';
import { webhooksHandlers } from './handlers.js';

const deps = perPlatform((p) => {
  let ring: ReturnType<typeof webhookKeyRing> | undefined;
  const deliverer = new WebhookDeliverer({
    db: p.db,
    keys: () => (ring ??= webhookKeyRing(p.secrets)),
    fetch: createOutboundFetch({
      ...WEBHOOK_OUTBOUND,
      allowPrivate: p.config.webhooks.allowPrivate,
      allowHttp: p.config.webhooks.allowHttp,
      logger: p.logger,
      metrics: p.metrics,
    }),
    now: () => p.clock.now(),
    logger: p.logger,
    metrics: p.metrics,
    mailKeys: () => p.mailKeys(),
    appUrl: p.config.appUrl,
    concurrency: p.config.webhooks.concurrency,
    host: new URL(p.config.appUrl).hostname,
  });
  return { platform: p, handlers: webhooksHandlers(deliverer) };
});

cloudEvent('webhooks', async (event: CloudEvent<unknown>) => {
  const { platform, handlers } = await deps();
  return consumer('webhooks', handlers, async () => platform)(event);
});
