import { DependencyUnavailableError } from '../errors/unavailable.js';
import type { RateLimitStore } from './store.js';
import type { WindowDecision, WindowRule } from './window.js';

/** How long a throttle waits for its store before it fails open. */
export const STORE_DEADLINE_MS = 1500;
/** After a failure, how long calls fail open at once instead of waiting out the deadline again. */
export const STORE_BACKOFF_MS = 5000;

/**
 * A rate-limit store with a deadline and a short backoff. Firestore's client retries an
 * unreachable backend for about 40 s per call; failing open after that long is no better than
 * failing closed, so a call that takes longer than the deadline counts as the store being down,
 * and for the next few seconds calls skip the store altogether (each still a counted failure).
 */
export class GuardedRateLimitStore implements RateLimitStore {
  #downUntilMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: RateLimitStore,
    private readonly deadlineMs = STORE_DEADLINE_MS,
    private readonly backoffMs = STORE_BACKOFF_MS,
  ) {}

  hit(key: string, now: Date, rule: WindowRule): Promise<WindowDecision> {
    return this.#guard(() => this.store.hit(key, now, rule));
  }

  forget(key: string, at: Date, rule: WindowRule): Promise<void> {
    return this.#guard(() => this.store.forget(key, at, rule));
  }

  // Wall-clock time, not the request's `now`: the deadline and the backoff are about how long
  // this process waits on the network, whatever time the domain logic is told it is.
  async #guard<T>(call: () => Promise<T>): Promise<T> {
    if (performance.now() < this.#downUntilMs) throw new DependencyUnavailableError('rate-limit store');
    let timer: NodeJS.Timeout | undefined;
    const pending = call();
    // A call abandoned at the deadline may still fail later; nobody waits for it any more.
    pending.catch(() => undefined);
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new DependencyUnavailableError('rate-limit store')),
            this.deadlineMs,
          );
        }),
      ]);
    } catch (error) {
      this.#downUntilMs = performance.now() + this.backoffMs;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
