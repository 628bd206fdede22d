import { type CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { consumer } from '../../shared/bus/consumer.js';
import { PostgresRateLimitStore } from '../../shared/ratelimit/postgres-store.js';
import { core } from '../../shared/runtime/core.js';
import { revocationsHandlers } from './handlers.js';

cloudEvent('revocations', async (event: CloudEvent<unknown>) => {
  const c = await core();
  const p = c.platform;
  const handlers = revocationsHandlers({
    feedIn: c.revocationFeedIn,
    rateLimitsIn: p.config.fastStateStore === 'postgres' ? (tx) => new PostgresRateLimitStore(tx) : null,
    orgPurge: c.orgs.deletion,
    retention: p.config.retention,
    clock: p.clock,
    logger: p.logger,
  });
  return consumer('revocations', handlers, async () => p)(event);
});
