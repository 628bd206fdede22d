import { sha256Hex } from '../crypto/tokens.js';
import { type Failure, fail } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../log/metrics.js';
import { HOUR_MS } from '../time/clock.js';
import { localWindowsFor } from './local-windows.js';
import { attemptsPerIp, ipBucket, storeFailed } from './login-throttle.js';
import type { RateLimitStore } from './store.js';
import type { WindowDecision, WindowRule } from './window.js';

/** The routes anyone may call without a session; each has its own per-IP budget (login's rule). */
export const throttledRoutes = {
  signup: 'Too many sign-up attempts.',
  'password-reset': 'Too many password-reset requests.',
  'verify-email': 'Too many verification attempts.',
  'login-oauth': 'Too many sign-in attempts.',
  'login-confirmation': 'Too many sign-in confirmation attempts.',
} as const;
export type ThrottledRoute = keyof typeof throttledRoutes;

/** Mails a stranger can make us send; signup covers both its verification and "already registered" mail. */
export type MailQuotaKind = 'signup' | 'password-reset';
export const mailsPerRecipient: WindowRule = { windowMs: HOUR_MS, limit: 3 };

/**
 * Abuse limits of the unauthenticated account routes. Per client IP (IPv6 by /64), 10 requests per
 * route in any 15 minutes, answered with RATE_LIMITED and Retry-After. Per recipient, 3 mails of a
 * kind per hour, silently: the caller answers exactly as if the mail went out, so the limit tells
 * nothing about the address. Both checks are single atomic store hits, so a burst cannot overshoot.
 * A store outage lets requests through (as login does), logged and counted, within this instance's
 * own copy of the same windows (local-windows.ts).
 */
export class RequestThrottle {
  constructor(
    private readonly store: RateLimitStore,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Null when the request may proceed; otherwise the RATE_LIMITED failure to answer. */
  async perIp(route: ThrottledRoute, ip: string, now: Date): Promise<Failure | null> {
    const key = `${route}:ip:${ipBucket(ip)}`;
    const local = localWindowsFor(this.store);
    let decision: WindowDecision;
    try {
      decision = await this.store.hit(key, now, attemptsPerIp);
      if (decision.allowed) local.record(key, now, attemptsPerIp);
    } catch (error) {
      storeFailed(this.logger, this.metrics, error, route, now);
      // Open, but not unlimited: this instance's own window applies the same rule.
      decision = local.hit(key, now, attemptsPerIp);
    }
    if (decision.allowed) return null;
    return fail('RATE_LIMITED', throttledRoutes[route], { retryAfterSeconds: decision.retryAfterSeconds });
  }

  /** Takes one of the recipient's mail slots; false means "send nothing" (and answer as usual). */
  async mailAllowed(kind: MailQuotaKind, emailNormalized: string, now: Date): Promise<boolean> {
    const key = `mail:${kind}:${sha256Hex(emailNormalized)}`;
    const local = localWindowsFor(this.store);
    try {
      const allowed = (await this.store.hit(key, now, mailsPerRecipient)).allowed;
      if (allowed) local.record(key, now, mailsPerRecipient);
      return allowed;
    } catch (error) {
      storeFailed(this.logger, this.metrics, error, `${kind} mail`, now);
      return local.hit(key, now, mailsPerRecipient).allowed;
    }
  }
}
