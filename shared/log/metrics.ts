import type { Logger } from './logger.js';

/**
 * Counters for the things operators alert on (fail-open paths above all). Each increment is also
 * a structured log line with a `metric` field, which a Cloud Logging log-based metric counts.
 */
export interface Metrics {
  /** `log: false` counts without the log line (the caller logs a summary, see fail-open-log.ts). */
  increment(name: MetricName, labels?: Record<string, string>, options?: { log?: boolean }): void;
  value(name: MetricName): number;
}

export type MetricName =
  | 'ratelimit_store_errors'
  | 'allowlist_store_errors'
  | 'outbox_publish_errors'
  | 'consumer_failures'
  | 'revocation_feed_errors'
  | 'session_validations'
  /** `audit-events` messages refused (an action not theirs to append, bad org or metadata). */
  | 'audit_events_dropped'
  /** Outbound fetches refused or failed (address policy, redirect, size, timeout, network). */
  | 'outbound_refused';

export function createMetrics(logger: Logger): Metrics {
  const counters = new Map<MetricName, number>();
  return {
    increment(name, labels, options) {
      counters.set(name, (counters.get(name) ?? 0) + 1);
      if (name !== 'session_validations' && options?.log !== false)
        logger.warn(`metric ${name}`, { metric: name, ...labels });
    },
    value: (name) => counters.get(name) ?? 0,
  };
}
