import { issueToken } from '../accounts/one-time-tokens.js';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import type { KeyRing } from '../crypto/seal.js';
import type { Logger } from '../log/logger.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import type { SessionStore } from '../sessions/store.js';
import type { StepUpReason } from '../sessions/tables.js';
import type { Locator } from './geoip.js';
import type { Location } from './location.js';
import { placeName, signInContext } from './place.js';
import { assessSignIn, type LocatedSignIn, type SignInSignals } from './travel.js';

export interface SignInWatchDeps {
  locator: Locator;
  sessions: Pick<SessionStore, 'lastLocatedSignIn'>;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
  logger: Logger;
}

export interface Assessment {
  location: Location;
  previous: LocatedSignIn | null;
  signals: SignInSignals;
}

/**
 * Where a sign-in came from, judged against the user's previous located sign-in (inside the
 * login's transaction, so the audit rows, the hold and the mail commit with the session).
 * A country change is recorded; impossible travel also holds the new session until it steps up
 * — never a refused login, never a kick: the user's other sessions are untouched.
 */
export class SignInWatch {
  constructor(private readonly deps: SignInWatchDeps) {}

  /** Null for private and unknown addresses; a database that cannot be read never blocks a sign-in. */
  async locate(ip: string): Promise<Location | null> {
    try {
      return await this.deps.locator.locate(ip);
    } catch (error) {
      this.deps.logger.error('ip location database unavailable; sign-in not located', { error });
      return null;
    }
  }

  async assess(tx: Tx, userId: string, location: Location, now: Date): Promise<Assessment> {
    const previous = await this.deps.sessions.lastLocatedSignIn(tx, userId);
    return { location, previous, signals: assessSignIn(previous, location, now) };
  }

  holdFor(assessment: Assessment | null): StepUpReason | null {
    return assessment?.signals.impossibleTravel ? 'impossible_travel' : null;
  }

  /**
   * The audit rows of a judged sign-in and, for an impossible-travel sign-in of a user without a
   * second factor, the "was this you?" mail: a single-use 15-minute link bound to that session.
   */
  async record(
    tx: Tx,
    user: { id: string; email: string },
    assessment: Assessment,
    sessionId: string,
    meta: { ip: string; userAgent: string | null; now: Date },
    hasSecondFactor: boolean,
  ): Promise<void> {
    const { signals, location, previous } = assessment;
    if (!signals.travel || !previous) return;
    const context = { ...signInContext(location, meta.userAgent), sessionId };
    const common = {
      userId: user.id,
      actor: { type: 'user' as const, id: user.id },
      target: { type: 'session', id: sessionId },
      ip: meta.ip,
      now: meta.now,
    };
    if (signals.countryChanged) {
      await appendAudit(tx, {
        ...common,
        action: 'login.country_changed',
        metadata: { from: signals.travel.fromCountry, to: signals.travel.toCountry, ...context },
      });
    }
    if (!signals.impossibleTravel) return;
    const { kmh, ...travel } = signals.travel;
    await appendAudit(tx, {
      ...common,
      action: 'login.impossible_travel',
      metadata: {
        ...travel,
        kmh: Number.isFinite(kmh) ? kmh : null,
        ...context,
        secondFactor: hasSecondFactor,
      },
    });
    if (hasSecondFactor) return;
    const token = await issueToken(tx, 'login-confirmation', meta.now, {
      userId: user.id,
      subject: sessionId,
    });
    await queueMail(
      tx,
      await this.deps.mailKeys(),
      renderMail(this.deps.appUrl, {
        type: 'login-confirmation',
        to: user.email,
        token,
        userAgent: meta.userAgent ?? 'unknown',
        ip: meta.ip,
        when: meta.now.toISOString(),
        place: placeName(location),
        previousPlace: placeName(previous.location),
      }),
      meta.now,
    );
  }
}
