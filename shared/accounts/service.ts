import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import type { KeyRing } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import { endLoginChallenges } from '../mfa/challenges.js';
import type { RequestThrottle } from '../ratelimit/request-throttle.js';
import type { SessionService } from '../sessions/service.js';
import { normalizeEmail } from './email.js';
import { consumeToken, issueToken, retireTokens } from './one-time-tokens.js';
import { type PasswordHasher, passwordProblem, passwordProblemMessages } from './password.js';
import './tables.js';

export interface AccountDeps {
  db: Db;
  hasher: PasswordHasher;
  isBreached: (password: string) => boolean;
  sessions: SessionService;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
  /** The per-recipient mail cap (shared/ratelimit/request-throttle.ts); false sends nothing. */
  mailQuota: Pick<RequestThrottle, 'mailAllowed'>;
}

export interface RequestMeta {
  ip: string | null;
  now: Date;
}

/**
 * Sign-up, verification, reset and password change. Answers never reveal whether an email is
 * registered: signup and reset-request return the same value for known and unknown addresses and
 * do the same expensive work (one bcrypt hash) on both paths. Signup never changes an existing
 * account; what it and reset-request mail is capped per recipient, silently.
 */
export class AccountService {
  constructor(private readonly deps: AccountDeps) {}

  checkPassword(field: string, password: string): Result<object> {
    const problem = passwordProblem(password, this.deps.isBreached);
    if (!problem) return { ok: true };
    return fail('VALIDATION_FAILED', 'The password does not meet the password rules.', {
      issues: [{ path: field, message: passwordProblemMessages[problem] }],
    });
  }

  async signup(
    input: { email: string; password: string; name: string },
    meta: RequestMeta,
  ): Promise<Result<object>> {
    const policy = this.checkPassword('password', input.password);
    if (!policy.ok) return policy;
    // Hash on every path, new address or taken: both pay for one bcrypt, so timing does not tell them apart.
    const hash = await this.deps.hasher.hash(input.password);
    const emailNormalized = normalizeEmail(input.email);
    const mayMail = await this.deps.mailQuota.mailAllowed('signup', emailNormalized, meta.now);
    const ring = await this.deps.mailKeys();

    await this.deps.db.transaction().execute(async (tx) => {
      const created = await tx
        .insertInto('users')
        .values({
          email: input.email.trim(),
          email_normalized: emailNormalized,
          name: input.name.trim(),
          email_verified_at: null,
          disabled_at: null,
        })
        .onConflict((oc) => oc.column('email_normalized').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (created) {
        await tx
          .insertInto('password_credentials')
          .values({ user_id: created.id, hash, updated_at: meta.now })
          .execute();
        await appendAudit(tx, {
          userId: created.id,
          action: 'account.created',
          actor: { type: 'user', id: created.id },
          metadata: { method: 'password' },
          ip: meta.ip,
          now: meta.now,
        });
        if (!mayMail) return;
        const token = await issueToken(tx, 'verify-email', meta.now, { userId: created.id });
        const mail = {
          type: 'verify-email',
          to: input.email.trim(),
          name: input.name.trim(),
          token,
        } as const;
        await queueMail(tx, ring, renderMail(this.deps.appUrl, mail), meta.now);
        return;
      }
      // The address is taken, verified or not. Signup never touches that row: its password, name
      // and pending verification link stay as they are, so a second signup cannot plant a password
      // for the mailbox owner to confirm. The owner is told instead, with a reset link.
      const existing = await tx
        .selectFrom('users')
        .select(['id', 'email', 'disabled_at'])
        .where('email_normalized', '=', emailNormalized)
        .executeTakeFirst();
      if (!existing || existing.disabled_at || !mayMail) return;
      await mailResetLink(tx, { ring, appUrl: this.deps.appUrl }, existing, 'account-exists', meta.now);
    });
    return { ok: true };
  }

  async verifyEmail(token: string, meta: RequestMeta): Promise<Result<object>> {
    const verified = await this.deps.db.transaction().execute(async (tx) => {
      const used = await consumeToken(tx, 'verify-email', token, meta.now);
      if (!used?.userId) return false;
      const updated = await tx
        .updateTable('users')
        .set({ email_verified_at: meta.now })
        .where('id', '=', used.userId)
        .where('email_verified_at', 'is', null)
        .executeTakeFirst();
      // A link used after a reset already proved the mailbox changes nothing, so it is not an event.
      if (updated.numUpdatedRows > 0n) {
        await appendAudit(tx, {
          userId: used.userId,
          action: 'email.verified',
          actor: { type: 'user', id: used.userId },
          ip: meta.ip,
          now: meta.now,
        });
      }
      return true;
    });
    return verified ? { ok: true } : invalidToken();
  }

  async requestPasswordReset(email: string, meta: RequestMeta): Promise<void> {
    const emailNormalized = normalizeEmail(email);
    // Counted for known and unknown addresses alike, so the cap says nothing about registration.
    if (!(await this.deps.mailQuota.mailAllowed('password-reset', emailNormalized, meta.now))) return;
    const ring = await this.deps.mailKeys();
    await this.deps.db.transaction().execute(async (tx) => {
      const user = await tx
        .selectFrom('users')
        .select(['id', 'email'])
        .where('email_normalized', '=', emailNormalized)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (user) await mailResetLink(tx, { ring, appUrl: this.deps.appUrl }, user, 'password-reset', meta.now);
    });
  }

  /** Single use; sets the password, proves the mailbox (marks the email verified) and ends every session and open MFA challenge. */
  async confirmPasswordReset(
    token: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<Result<{ revoked: number }>> {
    const policy = this.checkPassword('newPassword', newPassword);
    if (!policy.ok) return policy;
    const hash = await this.deps.hasher.hash(newPassword);
    const revoked = await this.deps.db.transaction().execute(async (tx) => {
      const used = await consumeToken(tx, 'password-reset', token, meta.now);
      if (!used?.userId) return null;
      const userId = used.userId;
      // An upsert: accounts created by Google, GitHub or an org's SSO have no password yet, and
      // reset is how their owner sets one.
      await tx
        .insertInto('password_credentials')
        .values({ user_id: userId, hash, updated_at: meta.now })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: meta.now }))
        .execute();
      await tx
        .updateTable('users')
        .set({ email_verified_at: meta.now })
        .where('id', '=', userId)
        .where('email_verified_at', 'is', null)
        .execute();
      await endLoginChallenges(tx, userId);
      const ended = await this.deps.sessions.revokeAllForUser(tx, userId, 'password_reset', meta.now);
      await this.deps.sessions.announceRevoked(tx, ended, 'password_reset', meta.now);
      await appendAudit(tx, {
        userId,
        action: 'password.reset',
        actor: { type: 'user', id: userId },
        metadata: { sessionsRevoked: ended.length },
        ip: meta.ip,
        now: meta.now,
      });
      return ended.length;
    });
    return revoked === null ? invalidToken() : { ok: true, revoked };
  }

  /** Needs the current password (and, at the route, a step-up); ends the user's other sessions and open MFA challenges. */
  async changePassword(
    input: { userId: string; sessionId: string; currentPassword: string; newPassword: string },
    meta: RequestMeta,
  ): Promise<Result<{ revoked: number }>> {
    const credential = await this.deps.db
      .selectFrom('password_credentials')
      .select('hash')
      .where('user_id', '=', input.userId)
      .executeTakeFirst();
    const matches = credential
      ? await this.deps.hasher.verify(input.currentPassword, credential.hash)
      : await this.deps.hasher.verifyDummy(input.currentPassword);
    if (!matches) return fail('INVALID_CREDENTIALS', 'The current password is wrong.');
    const policy = this.checkPassword('newPassword', input.newPassword);
    if (!policy.ok) return policy;
    const hash = await this.deps.hasher.hash(input.newPassword);
    const revoked = await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('password_credentials')
        .values({ user_id: input.userId, hash, updated_at: meta.now })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: meta.now }))
        .execute();
      await endLoginChallenges(tx, input.userId);
      const ended = await this.deps.sessions.revokeAllForUser(
        tx,
        input.userId,
        'password_changed',
        meta.now,
        {
          exceptSessionId: input.sessionId,
        },
      );
      await this.deps.sessions.announceRevoked(tx, ended, 'password_changed', meta.now);
      await appendAudit(tx, {
        userId: input.userId,
        action: 'password.changed',
        actor: { type: 'user', id: input.userId },
        metadata: { sessionsRevoked: ended.length },
        ip: meta.ip,
        now: meta.now,
      });
      return ended.length;
    });
    return { ok: true, revoked };
  }
}

/** A fresh reset link (older ones stop working) in a reset or "you already have an account" mail. */
export async function mailResetLink(
  tx: Tx,
  mail: { ring: KeyRing; appUrl: string },
  user: { id: string; email: string },
  type: 'password-reset' | 'account-exists',
  now: Date,
): Promise<void> {
  await retireTokens(tx, 'password-reset', user.id, now);
  const token = await issueToken(tx, 'password-reset', now, { userId: user.id });
  await queueMail(tx, mail.ring, renderMail(mail.appUrl, { type, to: user.email, token }), now);
}

export function invalidToken() {
  return fail('VALIDATION_FAILED', 'The link is invalid, expired or already used.', {
    issues: [{ path: 'token', message: 'invalid, expired or already used' }],
  });
}
