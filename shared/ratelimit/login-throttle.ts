import ipaddr from 'ipaddr.js';
import { sha256Hex } from '../crypto/tokens.js';
import { FailOpenLog } from '../log/fail-open-log.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { type LocalWindows, localWindowsFor } from './local-windows.js';
import type { RateLimitStore } from './store.js';
import type { WindowRule } from './window.js';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const attemptsPerIp: WindowRule = { windowMs: LOGIN_WINDOW_MS, limit: 10 };
export const failuresPerAccount: WindowRule = { windowMs: LOGIN_WINDOW_MS, limit: 100 };

/** IPv6 clients are bucketed by /64: one subscriber usually holds a whole /64. */
export function ipBucket(ip: string): string {
  // The router refuses requests whose address it cannot read; should one slip through anyway, it
  // shares a single bucket rather than open a fresh one per spelling.
  if (!ipaddr.isValid(ip)) return 'unknown';
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  if (address.kind() === 'ipv4') return `ip4:${address.toString()}`;
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `ip6:${parts.map((p) => p.toString(16)).join(':')}::/64`;
}

export type ThrottleOutcome =
  | {
      ok: true /** call once the password proved right, so the attempt is not held against the account */;
      succeeded: () => Promise<void>;
    }
  | { ok: false; retryAfterSeconds: number };

/**
 * Login throttling, checked before bcrypt runs: at most 10 attempts per client IP and 100 failures
 * per account in any 15 minutes. Each attempt takes an account slot up front (so a burst cannot
 * overshoot) and gives it back on success. When the store is down, login proceeds: we fail open
 * on purpose, and log and count it so an operator sees it; the same limits then hold per instance
 * (local-windows.ts), so an attacker who makes the store slow gains no unlimited guesses.
 */
export class LoginThrottle {
  constructor(
    private readonly store: RateLimitStore,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async attempt(ip: string, accountKey: string, now: Date, scope = 'login'): Promise<ThrottleOutcome> {
    const ipKey = `${scope}:ip:${ipBucket(ip)}`;
    const account = `${scope}:acct:${sha256Hex(accountKey)}`;
    const local = this.local;
    let counted = 0;
    try {
      const byIp = await this.store.hit(ipKey, now, attemptsPerIp);
      if (!byIp.allowed) return { ok: false, retryAfterSeconds: byIp.retryAfterSeconds };
      local.record(ipKey, now, attemptsPerIp);
      counted = 1;
      const byAccount = await this.store.hit(account, now, failuresPerAccount);
      if (!byAccount.allowed) return { ok: false, retryAfterSeconds: byAccount.retryAfterSeconds };
      local.record(account, now, failuresPerAccount);
    } catch (error) {
      this.storeFailed(error, now);
      // Open, but not unlimited: this instance's own windows apply the same rules.
      if (counted === 0) {
        const byIp = local.hit(ipKey, now, attemptsPerIp);
        if (!byIp.allowed) return { ok: false, retryAfterSeconds: byIp.retryAfterSeconds };
      }
      const byAccount = local.hit(account, now, failuresPerAccount);
      if (!byAccount.allowed) return { ok: false, retryAfterSeconds: byAccount.retryAfterSeconds };
      return { ok: true, succeeded: async () => local.forget(account, now) };
    }
    return {
      ok: true,
      succeeded: async () => {
        local.forget(account, now);
        try {
          await this.store.forget(account, now, failuresPerAccount);
        } catch (error) {
          this.storeFailed(error, now);
        }
      },
    };
  }

  private get local(): LocalWindows {
    return localWindowsFor(this.store);
  }

  private storeFailed(error: unknown, now: Date): void {
    storeFailed(this.logger, this.metrics, error, 'login', now);
  }
}

/** One report per process (metrics object): the login and request throttles share the store. */
const reports = new WeakMap<Metrics, FailOpenLog>();

/**
 * Throttles fail open when their store is down: every failure is counted, and logged at most once
 * a minute (with the count since), so an operator sees it without a line per request.
 */
export function storeFailed(logger: Logger, metrics: Metrics, error: unknown, what: string, now: Date): void {
  let report = reports.get(metrics);
  if (!report) {
    report = new FailOpenLog(logger, metrics, 'ratelimit_store_errors');
    reports.set(metrics, report);
  }
  report.record('rate-limit store unavailable; requests allowed without throttling', error, now, {
    affected: what,
  });
}
