import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { consumer } from '../../shared/bus/consumer.js';
import { auditDeps } from '../audit/deps.js';
import { auditConsumerBatches, auditConsumerHandlers } from './handlers.js';

// A Cloud Function has one signature, so the audit unit's Pub/Sub side is its own function.
cloudEvent('audit-consumer', async (event: CloudEvent<unknown>) => {
  const { platform, audit } = await auditDeps();
  const handlers = auditConsumerHandlers({
    audit,
    clock: platform.clock,
    logger: platform.logger,
    metrics: platform.metrics,
  });
  return consumer('audit', handlers, async () => platform, auditConsumerBatches(platform))(event);
});
