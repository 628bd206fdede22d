import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import type { Clock } from '../time/clock.js';
import { AllowlistCache } from './cache.js';
import { AllowlistGate } from './gate.js';
import { AllowlistService } from './service.js';
import { AllowlistStore } from './store.js';

export interface AllowlistDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** The allowlist domain as the runtime wires it: one cache per instance, shared by the gate and the routes. */
export function createAllowlistServices(deps: AllowlistDeps) {
  const store = new AllowlistStore(deps.db);
  const cache = new AllowlistCache((orgId) => store.enforcementInput(orgId), deps.clock);
  return {
    store,
    cache,
    service: new AllowlistService(deps.db, store, cache),
    gate: new AllowlistGate(cache, deps.logger, deps.metrics),
  };
}

export type AllowlistServices = ReturnType<typeof createAllowlistServices>;
