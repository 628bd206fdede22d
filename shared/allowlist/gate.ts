import { type Failure, fail } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { type Address, parseAddress } from './address.js';
import type { AllowlistCache, EnforcedAllowlist } from './cache.js';

/** Client addresses whose parse is remembered; past it the memo starts over (clients repeat). */
const PARSED_ADDRESSES_MAX = 10_000;

/**
 * The network check on every org route (the edge's `NetworkGate`, shared/http/auth.ts). When the
 * list cannot be read the request goes through, logged and counted: the product promises that an
 * allowlist outage never locks customers out of their own org. A list this instance read before
 * keeps applying meanwhile (it let the same people in a moment ago).
 */
export class AllowlistGate {
  readonly #parsed = new Map<string, Address | null>();

  constructor(
    private readonly cache: AllowlistCache,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async check(orgId: string, ip: string): Promise<Failure | null> {
    let list: EnforcedAllowlist;
    try {
      list = await this.cache.get(orgId);
    } catch (error) {
      this.metrics.increment('allowlist_store_errors', { orgId });
      // Stale if error: a reload that fails (a database slowed on purpose, by a flood) keeps the
      // list last read here; only an org never read here (or just changed) fails open. Otherwise
      // anyone able to slow the store could step around the list.
      const lastRead = this.cache.lastRead(orgId);
      if (!lastRead) {
        this.logger.error('allowlist could not be read; letting the request through', { orgId, error });
        return null;
      }
      this.logger.error('allowlist could not be read; applying the list last read', { orgId, error });
      list = lastRead;
    }
    if (!list.enabled) return null;
    const address = this.#address(ip);
    if (address && list.matcher.match(address) !== null) return null;
    return fail('IP_NOT_ALLOWED', `Requests from ${ip} are not allowed in this org.`);
  }

  /** ipaddr.js parsing costs microseconds; the same clients call again and again. */
  #address(ip: string): Address | null {
    let address = this.#parsed.get(ip);
    if (address === undefined) {
      address = parseAddress(ip);
      if (this.#parsed.size >= PARSED_ADDRESSES_MAX) this.#parsed.clear();
      this.#parsed.set(ip, address);
    }
    return address;
  }
}
