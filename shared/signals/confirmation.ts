import { consumeToken } from '../accounts/one-time-tokens.js';
import { invalidToken, mailResetLink } from '../accounts/service.js';
import { appendAudit } from '../audit/append.js';
import type { KeyRing } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import type { Result } from '../errors/codes.js';
import type { SessionService } from '../sessions/service.js';
import type { SessionStore } from '../sessions/store.js';
import '../accounts/tables.js';

export interface LoginConfirmationDeps {
  db: Db;
  sessions: SessionService;
  sessionStore: Pick<SessionStore, 'releaseHold'>;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
}

export type Answer = 'yes' | 'no';

/**
 * The answer to the "was this you?" mail of an impossible-travel sign-in by a user without a
 * second factor. The link is single use for 15 minutes and names one session (the token's
 * subject). "yes" lifts that session's hold; "no" ends it and mails a password-reset link,
 * since whoever signed in there knew the password.
 */
export class LoginConfirmation {
  constructor(private readonly deps: LoginConfirmationDeps) {}

  async answer(
    token: string,
    answer: Answer,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ sessionId: string; passwordResetMailed: boolean }>> {
    const ring = await this.deps.mailKeys();
    const done = await this.deps.db.transaction().execute(async (tx) => {
      const used = await consumeToken(tx, 'login-confirmation', token, meta.now);
      if (!used?.userId || !used.subject) return null;
      const userId = used.userId;
      const sessionId = used.subject;
      const common = {
        userId,
        actor: { type: 'user' as const, id: userId },
        target: { type: 'session', id: sessionId },
        ip: meta.ip,
        now: meta.now,
      };
      if (answer === 'yes') {
        const released = await this.deps.sessionStore.releaseHold(tx, sessionId);
        await appendAudit(tx, { ...common, action: 'login.confirmed', metadata: { released } });
        return { sessionId, passwordResetMailed: false };
      }
      const revoked = await this.deps.sessions.revokeById(tx, sessionId, 'login_denied', meta.now);
      await this.deps.sessions.announceRevoked(tx, revoked, 'login_denied', meta.now, {
        actorId: userId,
        ip: meta.ip,
      });
      await appendAudit(tx, {
        ...common,
        action: 'login.denied',
        metadata: { sessionsRevoked: revoked.length },
      });
      const user = await tx
        .selectFrom('users')
        .select(['id', 'email'])
        .where('id', '=', userId)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (user) await mailResetLink(tx, { ring, appUrl: this.deps.appUrl }, user, 'password-reset', meta.now);
      return { sessionId, passwordResetMailed: user !== undefined };
    });
    return done ? { ok: true, ...done } : invalidToken();
  }
}
