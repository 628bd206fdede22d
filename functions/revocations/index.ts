import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { consumer } from '../../shared/bus/consumer.js';
import { core } from '../../shared/runtime/core.js';
import { revocationsHandlers } from './handlers.js';

cloudEvent('revocations', async (event: CloudEvent<unknown>) => {
  const c = await core();
  const handlers = revocationsHandlers({ feedIn: c.revocationFeedIn, logger: c.platform.logger });
  return consumer('revocations', handlers, async () => c.platform)(event);
});
