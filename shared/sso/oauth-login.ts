import type { ClientMeta, LoginService, LoginSuccess } from '../accounts/login.js';
import type { Db } from '../db/connect.js';
import type { Result } from '../errors/codes.js';
import { findOrCreateExternalUser } from './external-users.js';
import type { FirebaseIdentity } from './firebase.js';

/**
 * Google/GitHub sign-in through Firebase Auth: the Firebase ID token only proves who the user is;
 * the session is ours, so revocation, devices and audit work as for passwords, and a user with MFA
 * answers MFA_REQUIRED with a code exactly as after a password.
 */
export class OAuthLogin {
  constructor(
    private readonly deps: {
      db: Db;
      tokens: { verify(idToken: string): Promise<Result<{ identity: FirebaseIdentity }>> };
      login: Pick<LoginService, 'afterFirstFactor'>;
    },
  ) {}

  async login(idToken: string, meta: ClientMeta): Promise<Result<LoginSuccess>> {
    const verified = await this.deps.tokens.verify(idToken);
    if (!verified.ok) return verified;
    const { identity } = verified;
    const found = await this.deps.db
      .transaction()
      .execute((tx) =>
        findOrCreateExternalUser(tx, { email: identity.email, name: identity.name }, meta.now),
      );
    if (!found.ok) return found;
    const { id, email, name } = found.user;
    // A Google or GitHub identity is a first factor like a password: users with MFA still give a code.
    return this.deps.login.afterFirstFactor({ id, email, name }, meta, identity.provider);
  }
}
