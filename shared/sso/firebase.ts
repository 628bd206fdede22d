import type { Auth, DecodedIdToken } from 'firebase-admin/auth';
import { fail, type Result } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';

/** Firebase sign-in providers we accept, and the method name our audit log records for each. */
const providers: Record<string, 'google' | 'github'> = { 'google.com': 'google', 'github.com': 'github' };

export interface FirebaseIdentity {
  uid: string;
  email: string;
  name: string | null;
  provider: 'google' | 'github';
}

/**
 * Our own checks on a token firebase-admin has verified (signature with Google's keys, issuer
 * https://securetoken.google.com/<project>, audience = project, expiry): the provider is one we
 * offer, and the provider verified the email. Pure, so each refusal is tested on its own.
 */
export function firebaseIdentity(
  decoded: Pick<DecodedIdToken, 'uid' | 'email' | 'email_verified' | 'firebase' | 'aud' | 'iss'> & {
    name?: unknown;
  },
  projectId: string,
): Result<{ identity: FirebaseIdentity }> {
  if (decoded.aud !== projectId || decoded.iss !== `https://securetoken.google.com/${projectId}`) {
    return fail('INVALID_CREDENTIALS', 'The sign-in token was issued for another project.');
  }
  const provider = providers[decoded.firebase?.sign_in_provider ?? ''];
  if (!provider) return fail('INVALID_CREDENTIALS', 'Sign in with Google or GitHub.');
  if (typeof decoded.email !== 'string' || decoded.email === '') {
    return fail('INVALID_CREDENTIALS', 'The sign-in token carries no email address.');
  }
  if (decoded.email_verified !== true) {
    return fail(
      'INVALID_CREDENTIALS',
      'Your email address is not verified with the sign-in provider; verify it there first.',
    );
  }
  return {
    ok: true,
    identity: {
      uid: decoded.uid,
      email: decoded.email,
      name: typeof decoded.name === 'string' ? decoded.name : null,
      provider,
    },
  };
}

/**
 * Verifies Firebase Auth ID tokens with firebase-admin (Google's public keys, cached per instance).
 * firebase-admin is loaded on the first token, not at cold start: most requests to the login unit
 * are password logins.
 */
export class FirebaseIdTokens {
  private auth: Promise<Auth> | undefined;

  constructor(
    private readonly projectId: string,
    private readonly logger: Logger,
  ) {}

  async verify(idToken: string): Promise<Result<{ identity: FirebaseIdentity }>> {
    let decoded: DecodedIdToken;
    try {
      decoded = await (await this.firebaseAuth()).verifyIdToken(idToken);
    } catch (error) {
      this.logger.info('firebase id token refused', { code: (error as { code?: string }).code ?? 'unknown' });
      return fail('INVALID_CREDENTIALS', 'The sign-in token is not valid or has expired; sign in again.');
    }
    return firebaseIdentity(decoded, this.projectId);
  }

  private firebaseAuth(): Promise<Auth> {
    this.auth ??= (async () => {
      const { getApps, initializeApp } = await import('firebase-admin/app');
      const { getAuth } = await import('firebase-admin/auth');
      const name = `sessionforge-auth-${this.projectId}`;
      const app =
        getApps().find((a) => a.name === name) ?? initializeApp({ projectId: this.projectId }, name);
      return getAuth(app);
    })().catch((error: unknown) => {
      this.auth = undefined; // a failed load is retried by the next sign-in
      throw error;
    });
    return this.auth;
  }
}
