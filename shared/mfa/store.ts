import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import { hasMfa } from './enrolled.js';
import type { FirstFactor } from './model.js';
import type { MfaTotpTable } from './tables.js';
import './tables.js';

type Executor = Db | Tx;
export type TotpCredential = Selectable<MfaTotpTable>;

/** MFA persistence, named by intent. Every "use once" is a single conditional UPDATE ... RETURNING. */
export class MfaStore {
  constructor(readonly db: Db) {}

  async totpOf(userId: string, executor: Executor = this.db): Promise<TotpCredential | null> {
    return (
      (await executor.selectFrom('mfa_totp').selectAll().where('user_id', '=', userId).executeTakeFirst()) ??
      null
    );
  }

  isEnrolled(userId: string): Promise<boolean> {
    return hasMfa(this.db, userId);
  }

  /** Starts (or restarts) an unconfirmed enrolment; never touches a confirmed credential. */
  async startEnrolment(
    userId: string,
    sealed: { secret: string; keyId: string },
    now: Date,
  ): Promise<boolean> {
    const row = await this.db
      .insertInto('mfa_totp')
      .values({ user_id: userId, secret_sealed: sealed.secret, key_id: sealed.keyId, created_at: now })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({
            secret_sealed: sealed.secret,
            key_id: sealed.keyId,
            created_at: now,
            last_step: null,
          })
          .where('mfa_totp.confirmed_at', 'is', null),
      )
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Claims time step `step` for the user: succeeds only if it is later than the last accepted one.
   * Two concurrent claims of one step serialize on the row; the second sees last_step = step and
   * matches nothing. `confirmed` picks the credential in use (true) or the pending enrolment (false).
   */
  async claimStep(tx: Tx, userId: string, step: number, confirmed: boolean): Promise<boolean> {
    const row = await tx
      .updateTable('mfa_totp')
      .set({ last_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', confirmed ? 'is not' : 'is', null)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async markConfirmed(tx: Tx, userId: string, now: Date): Promise<void> {
    await tx.updateTable('mfa_totp').set({ confirmed_at: now }).where('user_id', '=', userId).execute();
  }

  /** Marks one unused backup code used; of two concurrent uses exactly one gets `true`. */
  async useBackupCode(tx: Tx, userId: string, codeHash: Buffer, now: Date): Promise<boolean> {
    const row = await tx
      .updateTable('mfa_backup_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async replaceBackupCodes(tx: Tx, userId: string, hashes: Buffer[], now: Date): Promise<void> {
    await tx.deleteFrom('mfa_backup_codes').where('user_id', '=', userId).execute();
    await tx
      .insertInto('mfa_backup_codes')
      .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now, used_at: null })))
      .execute();
  }

  async unusedBackupCodes(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('mfa_backup_codes')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return row.n;
  }

  /** Removes the credential, its codes and open challenges; false when there was nothing confirmed. */
  async remove(tx: Tx, userId: string): Promise<boolean> {
    const removed = await tx
      .deleteFrom('mfa_totp')
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .returning('user_id')
      .executeTakeFirst();
    if (!removed) return false;
    await tx.deleteFrom('mfa_backup_codes').where('user_id', '=', userId).execute();
    await tx.deleteFrom('mfa_challenges').where('user_id', '=', userId).execute();
    return true;
  }

  /**
   * The user's credential, row-locked for the rest of the transaction: every code check of one user
   * (step-up, MFA login, both at once) runs one after another, so the lockout counter and the
   * replay guard see each attempt in order and a burst cannot slip extra guesses past the fifth.
   */
  async lockCredential(tx: Tx, userId: string): Promise<TotpCredential | null> {
    return (
      (await tx
        .selectFrom('mfa_totp')
        .selectAll()
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirst()) ?? null
    );
  }

  async saveFailureCount(
    tx: Tx,
    userId: string,
    failedAttempts: number,
    lockedUntil: Date | null,
  ): Promise<void> {
    await tx
      .updateTable('mfa_totp')
      .set({ failed_attempts: failedAttempts, ...(lockedUntil ? { locked_until: lockedUntil } : {}) })
      .where('user_id', '=', userId)
      .execute();
  }

  async createChallenge(
    userId: string,
    tokenHash: Buffer,
    clientFingerprint: string,
    expiresAt: Date,
    firstFactor: FirstFactor,
  ): Promise<void> {
    await this.db
      .insertInto('mfa_challenges')
      .values({
        token_hash: tokenHash,
        user_id: userId,
        client_fingerprint: clientFingerprint,
        expires_at: expiresAt,
        first_factor: firstFactor,
      })
      .execute();
  }

  /**
   * The user (and first factor) of a live challenge presented from the client it was issued to,
   * without using it up. In a transaction (`tx`) the challenge is locked until it is used: a password
   * reset ending it meanwhile is waited for and then seen, never overtaken.
   */
  async openChallenge(
    tokenHash: Buffer,
    clientFingerprint: string,
    now: Date,
    tx?: Tx,
  ): Promise<{ userId: string; firstFactor: FirstFactor } | null> {
    const query = (tx ?? this.db)
      .selectFrom('mfa_challenges')
      .select(['user_id', 'first_factor'])
      .where('token_hash', '=', tokenHash)
      .where('client_fingerprint', '=', clientFingerprint)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now);
    const row = await (tx ? query.forUpdate() : query).executeTakeFirst();
    return row ? { userId: row.user_id, firstFactor: row.first_factor } : null;
  }

  /** Uses a challenge once: the conditional UPDATE lets exactly one of two concurrent uses through. */
  async consumeChallenge(tx: Tx, tokenHash: Buffer, clientFingerprint: string, now: Date): Promise<boolean> {
    const row = await tx
      .updateTable('mfa_challenges')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('client_fingerprint', '=', clientFingerprint)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Expired challenges are dead weight; each new one sweeps the user's old ones. */
  async sweepChallenges(userId: string, now: Date): Promise<void> {
    await this.db
      .deleteFrom('mfa_challenges')
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)]))
      .execute();
  }
}
