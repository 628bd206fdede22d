import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { type KeyRing, open, seal } from '../crypto/seal.js';
import { randomToken, sha256 } from '../crypto/tokens.js';
import { fail, type Result } from '../errors/codes.js';
import { deviceFingerprint } from '../sessions/fingerprint.js';
import {
  afterWrongCode,
  BACKUP_CODE_COUNT,
  backupCodeHash,
  type CodeKind,
  codeKind,
  type FirstFactor,
  lockedAt,
  MFA_TOKEN_TTL_MS,
  newBackupCode,
} from './model.js';
import type { MfaStore } from './store.js';
import { matchingStep, newTotpSecret, otpauthUrl } from './totp.js';

export interface MfaDeps {
  store: MfaStore;
  /** The mfa key ring (secret 'mfa-encryption-key'); secrets are sealed under its current key. */
  keys: () => Promise<KeyRing>;
}

export interface ClientMeta {
  ip: string;
  userAgent: string | null;
  now: Date;
}

/** Where a code is being checked: step-up of one session, or the second step of a login. */
export type CodePurpose =
  | { kind: 'step_up'; sessionId: string }
  | { kind: 'login'; tokenHash: Buffer; clientFingerprint: string };

const WRONG_CODE = 'The code is wrong or was already used.';
const STALE_CHALLENGE =
  'This sign-in attempt expired or is not valid here; sign in again with your password.';

/**
 * TOTP enrolment, backup codes, and the one code check that step-up and MFA login share: a TOTP
 * code is accepted once (its time step is claimed with a compare-and-set), a backup code once
 * (atomic used_at), and five wrong codes in a row lock both for 15 minutes.
 */
export class MfaService {
  constructor(private readonly deps: MfaDeps) {}

  isEnrolled(userId: string): Promise<boolean> {
    return this.deps.store.isEnrolled(userId);
  }

  /** A new pending secret (replacing an unconfirmed one); CONFLICT while MFA is on. */
  async enroll(
    user: { id: string; email: string },
    now: Date,
  ): Promise<Result<{ secret: string; otpauthUrl: string }>> {
    const secret = newTotpSecret();
    const ring = await this.deps.keys();
    const started = await this.deps.store.startEnrolment(
      user.id,
      { secret: seal(ring, secret, user.id), keyId: ring.currentKeyId },
      now,
    );
    if (!started)
      return fail('CONFLICT', 'MFA is already on; turn it off first to enrol a new authenticator.');
    return { ok: true, secret, otpauthUrl: otpauthUrl(secret, user.email) };
  }

  /** The first valid code turns MFA on and yields the backup codes, shown this once. */
  async confirm(
    userId: string,
    code: string,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ backupCodes: string[] }>> {
    const ring = await this.deps.keys();
    return this.deps.store.db.transaction().execute(async (tx) => {
      const row = await this.deps.store.lockCredential(tx, userId);
      if (!row || row.confirmed_at) {
        return fail('CONFLICT', row ? 'MFA is already on.' : 'Start with POST /api/mfa/totp/enroll.');
      }
      const secret = this.openSecret(ring, row.secret_sealed, userId);
      const step = await matchingStep(secret, code, meta.now, row.last_step);
      // Not counted toward the lockout: whoever asks already holds the secret and gains nothing by guessing.
      if (step === null || !(await this.deps.store.claimStep(tx, userId, step, false))) {
        return fail('INVALID_CREDENTIALS', WRONG_CODE);
      }
      await this.deps.store.markConfirmed(tx, userId, meta.now);
      const backupCodes = await this.issueBackupCodes(tx, userId, meta.now);
      await appendAudit(tx, {
        userId,
        action: 'mfa.enrolled',
        actor: { type: 'user', id: userId },
        metadata: { method: 'totp', keyId: row.key_id },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const, backupCodes };
    });
  }

  /** Turns MFA off (the route demands step-up): secret, backup codes and open challenges go. */
  async disable(userId: string, meta: { ip: string; now: Date }): Promise<Result<object>> {
    return this.deps.store.db.transaction().execute(async (tx) => {
      if (!(await this.deps.store.remove(tx, userId))) return fail('CONFLICT', 'MFA is not on.');
      await appendAudit(tx, {
        userId,
        action: 'mfa.disabled',
        actor: { type: 'user', id: userId },
        metadata: { method: 'totp' },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const };
    });
  }

  /** Ten new backup codes; the old ones stop working in the same transaction. */
  async regenerateBackupCodes(
    userId: string,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ backupCodes: string[] }>> {
    return this.deps.store.db.transaction().execute(async (tx) => {
      const row = await this.deps.store.lockCredential(tx, userId);
      if (!row?.confirmed_at) return fail('CONFLICT', 'MFA is not on.');
      const backupCodes = await this.issueBackupCodes(tx, userId, meta.now);
      await appendAudit(tx, {
        userId,
        action: 'mfa.backup_codes_regenerated',
        actor: { type: 'user', id: userId },
        metadata: { count: backupCodes.length },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const, backupCodes };
    });
  }

  /** Login's first step passed for a user with MFA: a 5-minute, single-use token bound to this client. */
  async startChallenge(userId: string, meta: ClientMeta, firstFactor: FirstFactor): Promise<string> {
    const token = randomToken();
    await this.deps.store.sweepChallenges(userId, meta.now);
    await this.deps.store.createChallenge(
      userId,
      sha256(token),
      deviceFingerprint(meta.ip, meta.userAgent),
      new Date(meta.now.getTime() + MFA_TOKEN_TTL_MS),
      firstFactor,
    );
    return token;
  }

  /** Login's second step: the challenge's user, once the code is right; the challenge is then used up. */
  async completeChallenge(
    mfaToken: string,
    code: string,
    meta: ClientMeta,
  ): Promise<Result<{ userId: string; firstFactor: FirstFactor; method: CodeKind }>> {
    const tokenHash = sha256(mfaToken);
    const clientFingerprint = deviceFingerprint(meta.ip, meta.userAgent);
    const challenge = await this.deps.store.openChallenge(tokenHash, clientFingerprint, meta.now);
    if (!challenge) return fail('UNAUTHENTICATED', STALE_CHALLENGE);
    const { userId, firstFactor } = challenge;
    const checked = await this.checkCode(userId, code, { kind: 'login', tokenHash, clientFingerprint }, meta);
    return checked.ok ? { ok: true, userId, firstFactor, method: checked.method } : checked;
  }

  /**
   * Checks a TOTP or backup code for a user with MFA. Runs under the credential's row lock; a
   * wrong code is counted and audited in the same transaction, the fifth in a row locks for 15 min.
   */
  async checkCode(
    userId: string,
    code: string,
    purpose: CodePurpose,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ method: CodeKind }>> {
    const kind = codeKind(code);
    if (!kind) return fail('VALIDATION_FAILED', 'Send a 6-digit code or a backup code.');
    const ring = kind === 'totp' ? await this.deps.keys() : null;
    return this.deps.store.db.transaction().execute(async (tx) => {
      const row = await this.deps.store.lockCredential(tx, userId);
      if (!row?.confirmed_at) return fail('INVALID_CREDENTIALS', WRONG_CODE);
      if (purpose.kind === 'login') {
        const owner = await this.deps.store.openChallenge(
          purpose.tokenHash,
          purpose.clientFingerprint,
          meta.now,
          tx,
        );
        if (owner?.userId !== userId) return fail('UNAUTHENTICATED', STALE_CHALLENGE);
      }
      if (lockedAt(row.locked_until, meta.now)) {
        await this.auditFailure(tx, userId, purpose, kind, 'locked', meta);
        const retryAfterSeconds = Math.ceil(
          ((row.locked_until as Date).getTime() - meta.now.getTime()) / 1000,
        );
        return fail('RATE_LIMITED', 'Too many wrong codes.', { retryAfterSeconds });
      }

      let accepted = false;
      if (ring) {
        const step = await matchingStep(
          this.openSecret(ring, row.secret_sealed, userId),
          code,
          meta.now,
          row.last_step,
        );
        accepted = step !== null && (await this.deps.store.claimStep(tx, userId, step, true));
      } else {
        accepted = await this.deps.store.useBackupCode(tx, userId, backupCodeHash(userId, code), meta.now);
      }

      if (!accepted) {
        const next = afterWrongCode(row.failed_attempts, meta.now);
        await this.deps.store.saveFailureCount(tx, userId, next.failedAttempts, next.lockedUntil);
        await this.auditFailure(tx, userId, purpose, kind, 'wrong_code', meta, next.lockedUntil);
        return fail('INVALID_CREDENTIALS', WRONG_CODE);
      }
      if (row.failed_attempts > 0) await this.deps.store.saveFailureCount(tx, userId, 0, null);
      if (purpose.kind === 'login') {
        // Cannot lose: the challenge is locked since it was found live in this transaction.
        if (
          !(await this.deps.store.consumeChallenge(
            tx,
            purpose.tokenHash,
            purpose.clientFingerprint,
            meta.now,
          ))
        ) {
          throw new Error('mfa: a locked login challenge could not be used');
        }
      }
      return { ok: true as const, method: kind };
    });
  }

  private async issueBackupCodes(tx: Tx, userId: string, now: Date): Promise<string[]> {
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => newBackupCode());
    await this.deps.store.replaceBackupCodes(
      tx,
      userId,
      codes.map((code) => backupCodeHash(userId, code)),
      now,
    );
    return codes;
  }

  /** The user id is the associated data: a sealed secret copied onto another user's row does not open. */
  private openSecret(ring: KeyRing, sealed: string, userId: string): string {
    const secret = open(ring, sealed, userId);
    if (!secret) throw new Error('mfa: a TOTP secret does not open with the mfa key ring');
    return secret.toString('utf8');
  }

  private auditFailure(
    tx: Tx,
    userId: string,
    purpose: CodePurpose,
    method: CodeKind,
    reason: 'wrong_code' | 'locked',
    meta: { ip: string; now: Date },
    lockedUntil: Date | null = null,
  ) {
    const lock = lockedUntil ? { lockedUntil: lockedUntil.toISOString() } : {};
    return appendAudit(tx, {
      userId,
      action: purpose.kind === 'login' ? 'login.failed' : 'step_up.failed',
      actor: { type: 'user', id: userId },
      ...(purpose.kind === 'step_up' ? { target: { type: 'session', id: purpose.sessionId } } : {}),
      metadata: { method, reason, ...lock },
      ip: meta.ip,
      now: meta.now,
    });
  }
}
