import type { WindowDecision, WindowRule } from './window.js';

/** Fast, expiring state for throttling. Implementations: PostgreSQL (embedded) and Firestore. */
export interface RateLimitStore {
  /** Atomically records a hit at `now` if the window has room: concurrent callers never exceed `limit`. */
  hit(key: string, now: Date, rule: WindowRule): Promise<WindowDecision>;
  /** Removes the hit recorded at `at`, if it is still there. */
  forget(key: string, at: Date, rule: WindowRule): Promise<void>;
}
