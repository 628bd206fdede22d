import type { LogFields, Logger } from './logger.js';
import type { MetricName, Metrics } from './metrics.js';

/** At most one log line per fail-open path and process in this long. */
export const FAIL_OPEN_LOG_INTERVAL_MS = 60_000;

/**
 * The failures of a path that fails open on purpose (a throttle whose store is down): each one is
 * counted in the metric, but logged at most once a minute, with how many there were since the
 * previous line. An outage under load is one error line a minute, not one per request, which
 * would bury every other line and cost as much as the requests themselves.
 */
export class FailOpenLog {
  #nextLineAtMs = Number.NEGATIVE_INFINITY;
  #unlogged = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly metric: MetricName,
    private readonly intervalMs = FAIL_OPEN_LOG_INTERVAL_MS,
  ) {}

  record(message: string, error: unknown, now: Date, fields: LogFields = {}): void {
    this.metrics.increment(this.metric, undefined, { log: false });
    this.#unlogged++;
    if (now.getTime() < this.#nextLineAtMs) return;
    // `failures` lets a log-based metric sum what the lines stand for.
    this.logger.error(message, { metric: this.metric, failures: this.#unlogged, error, ...fields });
    this.#unlogged = 0;
    this.#nextLineAtMs = now.getTime() + this.intervalMs;
  }
}
