import type { Clock } from '../time/clock.js';
import { type CompiledAllowlist, compileAllowlist } from './matcher.js';
import type { EnforcementInput } from './store.js';

/** What the request path needs of one org's list: whether it is on, and the compiled matcher. */
export type EnforcedAllowlist = { enabled: false } | { enabled: true; matcher: CompiledAllowlist };

export const ALLOWLIST_CACHE_TTL_MS = 60_000;
/** Orgs kept compiled per instance; beyond it the least recently filled org is dropped. */
export const ALLOWLIST_CACHE_MAX_ORGS = 5_000;

/**
 * Per-instance cache of compiled lists. An entry lives at most `ttlMs` (the bound on how long a
 * change made on another instance can go unseen here); `invalidate` drops it at once. Concurrent
 * misses for one org share one read, and a read that was in flight when the org was invalidated
 * is not cached, so an invalidation can never be undone by a slow, older read.
 */
export class AllowlistCache {
  readonly #entries = new Map<string, { list: EnforcedAllowlist; expiresAtMs: number }>();
  readonly #inflight = new Map<string, Promise<EnforcedAllowlist>>();

  constructor(
    private readonly load: (orgId: string) => Promise<EnforcementInput>,
    private readonly clock: Clock,
    private readonly options: { ttlMs: number; maxOrgs: number } = {
      ttlMs: ALLOWLIST_CACHE_TTL_MS,
      maxOrgs: ALLOWLIST_CACHE_MAX_ORGS,
    },
  ) {}

  /** The org's enforced list; rejects when the store cannot be read (the caller decides to fail open). */
  get(orgId: string): Promise<EnforcedAllowlist> {
    const nowMs = this.clock.now().getTime();
    const cached = this.#entries.get(orgId);
    if (cached && cached.expiresAtMs > nowMs) return Promise.resolve(cached.list);
    const pending = this.#inflight.get(orgId);
    if (pending) return pending;
    const fill = this.load(orgId).then(enforced);
    this.#inflight.set(orgId, fill);
    const settle = () => {
      if (this.#inflight.get(orgId) === fill) this.#inflight.delete(orgId);
    };
    fill.then((list) => {
      if (this.#inflight.get(orgId) === fill) this.#store(orgId, list);
      settle();
    }, settle);
    return fill;
  }

  /**
   * The list this instance last read for the org, however old, unless it was invalidated since
   * (changed, or dropped for room): what the gate keeps applying while a reload fails.
   */
  lastRead(orgId: string): EnforcedAllowlist | undefined {
    return this.#entries.get(orgId)?.list;
  }

  invalidate(orgId: string): void {
    this.#entries.delete(orgId);
    this.#inflight.delete(orgId);
  }

  get size(): number {
    return this.#entries.size;
  }

  #store(orgId: string, list: EnforcedAllowlist): void {
    this.#entries.delete(orgId);
    this.#entries.set(orgId, { list, expiresAtMs: this.clock.now().getTime() + this.options.ttlMs });
    while (this.#entries.size > this.options.maxOrgs) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

function enforced(stored: EnforcementInput): EnforcedAllowlist {
  return stored.enabled ? { enabled: true, matcher: compileAllowlist(stored.networks) } : { enabled: false };
}
