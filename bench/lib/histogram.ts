/**
 * Latencies in log-spaced buckets (5 % wide, 10 µs to ~2 min): fixed memory however long the
 * soak runs, so the load generator's own bookkeeping does not show up as growth in the
 * process it measures. Percentiles are the upper edge of their bucket (≤ 5 % high).
 */
const MIN_MS = 0.01;
const RATIO = 1.05;
const BUCKETS = Math.ceil(Math.log(120_000 / MIN_MS) / Math.log(RATIO)) + 1;

export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;

  record(ms: number): void {
    const index =
      ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(RATIO)));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#total++;
  }

  get count(): number {
    return this.#total;
  }

  percentile(p: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.#total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return MIN_MS * RATIO ** i;
    }
    return MIN_MS * RATIO ** (BUCKETS - 1);
  }
}
