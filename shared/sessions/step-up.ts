import { appendAudit } from '../audit/append.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import type { PasskeyService } from '../passkeys/service.js';
import type { AuthenticationResponse } from '../passkeys/wire.js';
import type { LoginThrottle } from '../ratelimit/login-throttle.js';
import '../accounts/tables.js';
import { SUDO_WINDOW_MS } from './model.js';
import type { SessionService } from './service.js';
import type { SessionRow } from './store.js';

export interface PasswordCheck {
  verify(password: string, hash: string): Promise<boolean>;
  verifyDummy(password: string): Promise<false>;
}

/** The second factor (the mfa domain implements it): users who have one step up with a code, not the password. */
export interface CodeCheck {
  isEnrolled(userId: string): Promise<boolean>;
  checkCode(
    userId: string,
    code: string,
    purpose: { kind: 'step_up'; sessionId: string },
    meta: { ip: string; now: Date },
  ): Promise<Result<{ method: string }>>;
}

export interface StepUpDeps {
  db: Db;
  passwords: PasswordCheck;
  throttle: LoginThrottle;
  sessions: SessionService;
  codes?: CodeCheck;
  /** Passkey assertions (the passkeys domain); absent, there is no passkey step-up. */
  passkeys?: Pick<PasskeyService, 'verifyAssertion'>;
}

export interface SteppedUp {
  token: string;
  session: SessionRow;
  sudoUntil: Date;
}

/**
 * Step-up ("sudo"): a TOTP/backup code for users with MFA, else the password. Success never
 * upgrades the presented token: it replaces the session (SessionService.replace) with a fresh one
 * with sudo for 10 minutes, so a token someone planted or saw earlier never gains sudo. Attempts
 * share the login limits under their own 'step-up' scope; outcomes are audited.
 */
export class StepUpService {
  constructor(private readonly deps: StepUpDeps) {}

  async withPassword(
    current: SessionRow,
    password: string,
    meta: { ip: string; userAgent: string | null; now: Date },
  ): Promise<Result<SteppedUp>> {
    if (await this.deps.codes?.isEnrolled(current.user_id)) {
      return fail('VALIDATION_FAILED', 'This account uses MFA: step up with a code, not the password.', {
        issues: [{ path: 'code', message: 'required for accounts with MFA' }],
      });
    }
    if (current.step_up_reason) {
      // Whoever signed in from the unexpected place knew the password: it cannot vouch for them.
      return fail('STEP_UP_REQUIRED', 'Confirm this sign-in with the link we mailed you.', {
        extra: { reason: current.step_up_reason },
      });
    }
    const throttle = await this.deps.throttle.attempt(meta.ip, current.user_id, meta.now, 'step-up');
    if (!throttle.ok) {
      return fail('RATE_LIMITED', 'Too many step-up attempts.', {
        retryAfterSeconds: throttle.retryAfterSeconds,
      });
    }
    const credential = await this.deps.db
      .selectFrom('password_credentials')
      .select('hash')
      .where('user_id', '=', current.user_id)
      .executeTakeFirst();
    const matches = credential
      ? await this.deps.passwords.verify(password, credential.hash)
      : await this.deps.passwords.verifyDummy(password);
    if (!matches) {
      await this.deps.db.transaction().execute((tx) =>
        appendAudit(tx, {
          userId: current.user_id,
          action: 'step_up.failed',
          actor: { type: 'user', id: current.user_id },
          target: { type: 'session', id: current.id },
          metadata: { method: 'password' },
          ip: meta.ip,
          now: meta.now,
        }),
      );
      return fail('INVALID_CREDENTIALS', 'The password is wrong.');
    }
    await throttle.succeeded();
    return this.grant(current, 'password', meta);
  }

  /** Step-up with a TOTP or backup code; wrong codes count toward the MFA lockout (mfa domain). */
  async withCode(
    current: SessionRow,
    code: string,
    meta: { ip: string; userAgent: string | null; now: Date },
  ): Promise<Result<SteppedUp>> {
    if (!this.deps.codes || !(await this.deps.codes.isEnrolled(current.user_id))) {
      return fail('VALIDATION_FAILED', 'This account has no MFA: step up with the password.', {
        issues: [{ path: 'password', message: 'required for accounts without MFA' }],
      });
    }
    const checked = await this.deps.codes.checkCode(
      current.user_id,
      code,
      { kind: 'step_up', sessionId: current.id },
      meta,
    );
    if (!checked.ok) return checked;
    return this.grant(current, checked.method, meta);
  }

  /**
   * Step-up with a passkey of the session's user, for anyone who has one (with or without TOTP):
   * the only step-up an org with requirePasskey accepts, so the window remembers the method and
   * the authenticator model. The challenge is bound to this session (from
   * POST /api/sessions/step-up/passkey/options). Shares the step-up attempt limits.
   */
  async withPasskey(
    current: SessionRow,
    input: { challengeId: string; response: AuthenticationResponse },
    meta: { ip: string; userAgent: string | null; now: Date },
  ): Promise<Result<SteppedUp>> {
    if (!this.deps.passkeys) return fail('NOT_FOUND');
    const throttle = await this.deps.throttle.attempt(meta.ip, current.user_id, meta.now, 'step-up');
    if (!throttle.ok) {
      return fail('RATE_LIMITED', 'Too many step-up attempts.', {
        retryAfterSeconds: throttle.retryAfterSeconds,
      });
    }
    const checked = await this.deps.passkeys.verifyAssertion(
      { purpose: 'step_up', sessionId: current.id, userId: current.user_id },
      input.challengeId,
      input.response,
      meta,
    );
    if (!checked.ok) return checked;
    await throttle.succeeded();
    return this.grant(current, 'passkey', meta, checked.passkey.aaguid);
  }

  private async grant(
    current: SessionRow,
    method: string,
    meta: { ip: string; userAgent: string | null; now: Date },
    aaguid: string | null = null,
  ): Promise<Result<SteppedUp>> {
    const sudoUntil = new Date(meta.now.getTime() + SUDO_WINDOW_MS);
    return this.deps.db.transaction().execute(async (tx) => {
      // A second factor or a passkey also lifts an impossible-travel hold (the password never reaches here for one).
      const started = await this.deps.sessions.replace(tx, current, 'step_up', meta, {
        sudoUntil,
        sudo: { method, aaguid },
        releaseHold: true,
      });
      // Revoked meanwhile (another tab, a reset): the old session cannot be stepped up any more.
      if (!started.ok) return started;
      await appendAudit(tx, {
        userId: current.user_id,
        action: 'step_up.succeeded',
        actor: { type: 'user', id: current.user_id },
        target: { type: 'session', id: started.session.id },
        metadata: {
          method,
          previousSessionId: current.id,
          ...(aaguid ? { aaguid } : {}),
          ...(current.step_up_reason ? { released: current.step_up_reason } : {}),
        },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const, token: started.token, session: started.session, sudoUntil };
    });
  }
}
