import { type Failure, fail } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import type { AllowlistCache } from './cache.js';

/**
 * The network check on every org route (the edge's `NetworkGate`, shared/http/auth.ts). When the
 * list cannot be read the request goes through, logged and counted: the product promises that an
 * allowlist outage never locks customers out of their own org.
 */
export class AllowlistGate {
  constructor(
    private readonly cache: AllowlistCache,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async check(orgId: string, ip: string): Promise<Failure | null> {
    let list: Awaited<ReturnType<AllowlistCache['get']>>;
    try {
      list = await this.cache.get(orgId);
    } catch (error) {
      this.logger.error('allowlist could not be read; letting the request through', { orgId, error });
      this.metrics.increment('allowlist_store_errors', { orgId });
      return null;
    }
    if (!list.enabled || list.matcher.matchText(ip) !== null) return null;
    return fail('IP_NOT_ALLOWED', `Requests from ${ip} are not allowed in this org.`);
  }
}
