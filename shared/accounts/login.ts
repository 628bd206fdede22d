import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/append.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import type { FirstFactor } from '../mfa/model.js';
import type { PasskeyService } from '../passkeys/service.js';
import type { AuthenticationResponse } from '../passkeys/wire.js';
import type { LoginThrottle } from '../ratelimit/login-throttle.js';
import type { DeviceTracker } from '../sessions/devices.js';
import { idleExpiresAt } from '../sessions/model.js';
import type { SessionService } from '../sessions/service.js';
import type { StepUpReason } from '../sessions/tables.js';
import { signInContext } from '../signals/place.js';
import type { SignInWatch } from '../signals/sign-in.js';
import { normalizeEmail } from './email.js';
import type { PasswordHasher } from './password.js';
import './tables.js';

/** What login needs from MFA: who has it, the second-step challenge, and checking its answer. */
export interface SecondFactor {
  isEnrolled(userId: string): Promise<boolean>;
  startChallenge(userId: string, meta: ClientMeta, firstFactor: FirstFactor): Promise<string>;
  completeChallenge(
    mfaToken: string,
    code: string,
    meta: ClientMeta,
  ): Promise<Result<{ userId: string; firstFactor: FirstFactor; method: string }>>;
}

export interface LoginDeps {
  db: Db;
  /** The second factor (the mfa domain implements it); absent, password login is the whole login. */
  secondFactor?: SecondFactor;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  sessions: SessionService;
  /** Records the device and tells the user about new ones (absent in tools that need no mail). */
  devices?: DeviceTracker;
  /** Passkey assertions (the passkeys domain); absent, there is no passkey sign-in. */
  passkeys?: Pick<PasskeyService, 'verifyAssertion'>;
  /** Locates sign-ins and judges them against the previous one (the login unit sets it; others sign in unlocated). */
  signals?: SignInWatch;
  /** Sends accounts of a domain an org verified with `enforceSso` to that org's SSO (absent: no org rule). */
  ssoEnforcement?: {
    check(
      user: { id: string; email: string },
      firstFactor: string,
      meta: ClientMeta,
    ): Promise<Result<unknown>>;
  };
}

export interface ClientMeta {
  ip: string;
  userAgent: string | null;
  now: Date;
}

export interface LoginSuccess {
  token: string;
  session: { id: string; expiresAt: Date; idleExpiresAt: Date; stepUpReason: StepUpReason | null };
  user: { id: string; email: string; name: string };
}

const WRONG = 'The email or password is wrong.';

/**
 * Password login. The throttle runs before bcrypt; an unknown or disabled account compares
 * against a dummy hash, so the status, body and time of "no such user" and "wrong password" match.
 * EMAIL_NOT_VERIFIED is told only to someone who knows the password. One org rule takes part: an
 * org that verified the account's email domain and enforces SSO owns that address, so it decides
 * how it signs in (`ssoEnforcement`). Otherwise an org's SSO requirement, session cap and timeouts
 * govern what a session does in that org (the org gate), never whether the person signs in.
 */
export class LoginService {
  constructor(private readonly deps: LoginDeps) {}

  /** The same service with sign-in signals (only the login unit opens the location database). */
  withSignals(signals: SignInWatch): LoginService {
    return new LoginService({ ...this.deps, signals });
  }

  async passwordLogin(
    input: { email: string; password: string },
    meta: ClientMeta,
  ): Promise<Result<LoginSuccess>> {
    const emailNormalized = normalizeEmail(input.email);
    const throttle = await this.deps.throttle.attempt(meta.ip, emailNormalized, meta.now);
    if (!throttle.ok) {
      return fail('RATE_LIMITED', 'Too many sign-in attempts.', {
        retryAfterSeconds: throttle.retryAfterSeconds,
      });
    }

    const user = await this.deps.db
      .selectFrom('users')
      .innerJoin('password_credentials', 'password_credentials.user_id', 'users.id')
      .select([
        'users.id',
        'users.email',
        'users.name',
        'users.email_verified_at',
        'users.disabled_at',
        'password_credentials.hash',
      ])
      .where('users.email_normalized', '=', emailNormalized)
      .executeTakeFirst();

    const passwordOk =
      user && !user.disabled_at
        ? await this.deps.hasher.verify(input.password, user.hash)
        : await this.deps.hasher.verifyDummy(input.password);

    if (!user || user.disabled_at || !passwordOk) {
      if (user)
        await this.loginFailed(user.id, 'password', user.disabled_at ? 'disabled' : 'wrong_password', meta);
      return fail('INVALID_CREDENTIALS', WRONG);
    }

    await throttle.succeeded();
    if (!user.email_verified_at) {
      return fail('EMAIL_NOT_VERIFIED', 'Confirm your email address first; we sent you a link.');
    }
    if (this.deps.hasher.needsRehash(user.hash)) {
      const upgraded = await this.deps.hasher.hash(input.password);
      await this.deps.db
        .updateTable('password_credentials')
        .set({ hash: upgraded })
        .where('user_id', '=', user.id)
        .execute();
    }
    return this.afterFirstFactor({ id: user.id, email: user.email, name: user.name }, meta, 'password');
  }

  /**
   * Where every first factor (a password, a Google/GitHub identity) leads: users with MFA get the
   * second step (MFA_REQUIRED with an mfaToken for POST /api/login/mfa), everyone else a session.
   */
  async afterFirstFactor(
    user: { id: string; email: string; name: string },
    meta: ClientMeta,
    firstFactor: FirstFactor,
  ): Promise<Result<LoginSuccess>> {
    const enforced = await this.deps.ssoEnforcement?.check(user, firstFactor, meta);
    if (enforced && !enforced.ok) return enforced;
    const secondFactor = this.deps.secondFactor;
    if (secondFactor && (await secondFactor.isEnrolled(user.id))) {
      const mfaToken = await secondFactor.startChallenge(user.id, meta, firstFactor);
      return fail('MFA_REQUIRED', 'Enter the code from your authenticator app (or a backup code).', {
        extra: { mfaToken },
      });
    }
    return this.completeLogin(user, meta, firstFactor);
  }

  /**
   * Sign-in with a passkey: the assertion names the account (discoverable credential), and with
   * user verification it is both factors, so no MFA_REQUIRED. Login's per-IP limit applies (its
   * 'login' scope: password and passkey attempts from one address count together), then the
   * account's own rules: disabled accounts are refused like a wrong credential, unverified
   * addresses get EMAIL_NOT_VERIFIED, and the session starts as every login's does.
   */
  async passkeyLogin(
    input: { challengeId: string; response: AuthenticationResponse },
    meta: ClientMeta,
  ): Promise<Result<LoginSuccess>> {
    if (!this.deps.passkeys) return fail('NOT_FOUND');
    const throttle = await this.deps.throttle.attempt(meta.ip, `passkey:${input.response.id}`, meta.now);
    if (!throttle.ok) {
      return fail('RATE_LIMITED', 'Too many sign-in attempts.', {
        retryAfterSeconds: throttle.retryAfterSeconds,
      });
    }
    const checked = await this.deps.passkeys.verifyAssertion(
      { purpose: 'login' },
      input.challengeId,
      input.response,
      meta,
    );
    if (!checked.ok) return checked;
    await throttle.succeeded();
    const user = await this.deps.db
      .selectFrom('users')
      .select(['id', 'email', 'name', 'email_verified_at', 'disabled_at'])
      .where('id', '=', checked.passkey.userId)
      .executeTakeFirst();
    if (!user || user.disabled_at) {
      if (user) await this.loginFailed(user.id, 'passkey', 'disabled', meta);
      return fail('INVALID_CREDENTIALS', 'The passkey was refused.');
    }
    if (!user.email_verified_at) {
      return fail('EMAIL_NOT_VERIFIED', 'Confirm your email address first; we sent you a link.');
    }
    // An org that verified this account's domain and enforces SSO governs every personal
    // credential, a passkey as much as a password (only a password keeps the owners' break-glass).
    const enforced = await this.deps.ssoEnforcement?.check(user, 'passkey', meta);
    if (enforced && !enforced.ok) return enforced;
    return this.completeLogin({ id: user.id, email: user.email, name: user.name }, meta, 'passkey');
  }

  /** The second step for users with MFA: the token from MFA_REQUIRED plus a TOTP or backup code. */
  async mfaLogin(input: { mfaToken: string; code: string }, meta: ClientMeta): Promise<Result<LoginSuccess>> {
    if (!this.deps.secondFactor) return fail('UNAUTHENTICATED', 'Sign in first.');
    // Login's per-IP limit, in a scope of its own: one address cannot turn an mfaToken into
    // unbounded attempts (and audit rows) while the per-user lockout holds.
    const throttle = await this.deps.throttle.attempt(meta.ip, input.mfaToken, meta.now, 'login-mfa');
    if (!throttle.ok) {
      return fail('RATE_LIMITED', 'Too many sign-in attempts.', {
        retryAfterSeconds: throttle.retryAfterSeconds,
      });
    }
    const checked = await this.deps.secondFactor.completeChallenge(input.mfaToken, input.code, meta);
    if (!checked.ok) return checked;
    await throttle.succeeded();
    const user = await this.deps.db
      .selectFrom('users')
      .select(['id', 'email', 'name', 'disabled_at'])
      .where('id', '=', checked.userId)
      .executeTakeFirst();
    // Disabled during the five minutes between the two steps.
    if (!user || user.disabled_at) return fail('INVALID_CREDENTIALS', WRONG);
    return this.completeLogin(
      { id: user.id, email: user.email, name: user.name },
      meta,
      `${checked.firstFactor}+${checked.method}`,
    );
  }

  private async loginFailed(userId: string, method: string, reason: string, meta: ClientMeta): Promise<void> {
    await this.deps.db.transaction().execute((tx) =>
      appendAudit(tx, {
        userId,
        action: 'login.failed',
        actor: { type: 'user', id: null },
        metadata: { method, reason },
        ip: meta.ip,
        now: meta.now,
      }),
    );
  }

  /** The common end of every login method: a new session (bound to `orgId` for SSO), its audit row, the answer. */
  async completeLogin(
    user: { id: string; email: string; name: string },
    meta: ClientMeta,
    method: string,
    options: { orgId?: string } = {},
  ): Promise<Result<LoginSuccess>> {
    const signals = this.deps.signals;
    const location = (await signals?.locate(meta.ip)) ?? null;
    // Asked before the transaction (PGlite has one connection); only a located sign-in can need it.
    const hasSecondFactor = location ? ((await this.deps.secondFactor?.isEnrolled(user.id)) ?? false) : false;
    const sessionId = randomUUID();
    const started = await this.deps.db.transaction().execute(async (tx) => {
      const assessment = signals && location ? await signals.assess(tx, user.id, location, meta.now) : null;
      const deviceId = (await this.deps.devices?.track(tx, user, meta, { location, sessionId })) ?? null;
      const result = await this.deps.sessions.start(tx, {
        id: sessionId,
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        now: meta.now,
        deviceId,
        orgId: options.orgId ?? null,
        location,
        stepUpReason: signals?.holdFor(assessment) ?? null,
      });
      await appendAudit(tx, {
        userId: user.id,
        action: 'login.succeeded',
        actor: { type: 'user', id: user.id },
        target: { type: 'session', id: result.session.id },
        metadata: { method, ...signInContext(location, meta.userAgent) },
        ip: meta.ip,
        now: meta.now,
      });
      if (signals && assessment) await signals.record(tx, user, assessment, sessionId, meta, hasSecondFactor);
      return result;
    });
    const { session } = started;
    return {
      ok: true,
      token: started.token,
      session: {
        id: session.id,
        expiresAt: session.expires_at,
        idleExpiresAt: idleExpiresAt({
          lastSeenAt: session.last_seen_at,
          idleTimeoutMinutes: session.idle_timeout_minutes,
          expiresAt: session.expires_at,
        }),
        stepUpReason: session.step_up_reason,
      },
      user,
    };
  }
}
