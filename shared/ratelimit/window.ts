/**
 * Sliding-window log: a key may record at most `limit` hits in any `windowMs` span. Pure, so
 * every store (PostgreSQL, Firestore) makes the same decision from the same hits.
 */
export interface WindowRule {
  windowMs: number;
  limit: number;
}

export interface WindowDecision {
  allowed: boolean;
  /** Hits to keep (pruned to the window, plus this one when allowed). */
  hits: Date[];
  /** Seconds until one slot frees up, when refused. */
  retryAfterSeconds: number;
}

export function decideHit(previous: readonly Date[], now: Date, rule: WindowRule): WindowDecision {
  const windowStart = now.getTime() - rule.windowMs;
  const live = previous
    .filter((hit) => hit.getTime() > windowStart)
    .sort((a, b) => a.getTime() - b.getTime());
  if (live.length < rule.limit) return { allowed: true, hits: [...live, now], retryAfterSeconds: 0 };
  const oldestThatMustExpire = live[live.length - rule.limit] ?? now;
  const retryAfterMs = oldestThatMustExpire.getTime() + rule.windowMs - now.getTime();
  return { allowed: false, hits: live, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}

/** Removes one hit recorded at `at` (an attempt that turned out not to count, e.g. a success). */
export function forgetHit(previous: readonly Date[], at: Date): Date[] {
  const index = previous.findIndex((hit) => hit.getTime() === at.getTime());
  return index === -1 ? [...previous] : [...previous.slice(0, index), ...previous.slice(index + 1)];
}
