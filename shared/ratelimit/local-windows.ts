import type { RateLimitStore } from './store.js';
import { decideHit, forgetHit, type WindowDecision, type WindowRule } from './window.js';

/** Keys one process remembers; past this the oldest go first (a flood of keys cannot grow it). */
const MAX_KEYS = 10_000;

/**
 * This process's own copy of the throttle windows, for when the shared store fails. Failing open
 * must not mean "no limit": an attacker who can make the store slow (a burst on one key makes its
 * compare-and-set rounds contend past the guard's deadline) would otherwise get unlimited guesses
 * while it is skipped. Every hit the store allows is recorded here too, and while the store fails
 * the same rules are applied to these windows, so one client gets no more than the limit from
 * each instance. Honest users, far below the limits, notice nothing.
 */
export class LocalWindows {
  readonly #hits = new Map<string, Date[]>();

  /** Remembers a hit the store allowed. */
  record(key: string, now: Date, rule: WindowRule): void {
    const decision = decideHit(this.#hits.get(key) ?? [], now, rule);
    // Over the limit here (hits from before a restart elsewhere) the store's word stands.
    this.#set(key, decision.allowed ? decision.hits : [...decision.hits, now]);
  }

  /** Decides (and records) a hit while the store cannot. */
  hit(key: string, now: Date, rule: WindowRule): WindowDecision {
    const decision = decideHit(this.#hits.get(key) ?? [], now, rule);
    this.#set(key, decision.hits);
    return decision;
  }

  forget(key: string, at: Date): void {
    const hits = this.#hits.get(key);
    if (hits) this.#set(key, forgetHit(hits, at));
  }

  #set(key: string, hits: Date[]): void {
    this.#hits.delete(key);
    if (hits.length === 0) return;
    if (this.#hits.size >= MAX_KEYS) {
      const oldest = this.#hits.keys().next();
      if (!oldest.done) this.#hits.delete(oldest.value);
    }
    this.#hits.set(key, hits);
  }
}

const perStore = new WeakMap<RateLimitStore, LocalWindows>();

/** One set of local windows per store (the login and request throttles share theirs). */
export function localWindowsFor(store: RateLimitStore): LocalWindows {
  let local = perStore.get(store);
  if (!local) {
    local = new LocalWindows();
    perStore.set(store, local);
  }
  return local;
}
