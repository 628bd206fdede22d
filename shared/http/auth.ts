import type { IncomingMessage } from 'node:http';
import { fail } from '../errors/codes.js';
import { inSudo } from '../sessions/model.js';
import type { SessionService } from '../sessions/service.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import type { HttpEdge } from './router.js';

export const API_KEY_PREFIX = 'sf_live_';

/** The credential a request carries: `Authorization: Bearer <token>`, else the session cookie. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return readCookie(req.headers.cookie, SESSION_COOKIE);
}

/** Authenticates user routes by session. Validity is read from the database on every request. */
export function sessionAuthenticator(sessions: SessionService): HttpEdge<unknown>['authenticate'] {
  return async (req, requirement, { now }) => {
    if (requirement.kind === 'none') return { ok: true, principal: null };
    const token = presentedToken(req);
    if (!token) return fail('UNAUTHENTICATED', 'Sign in first.');
    if (token.startsWith(API_KEY_PREFIX))
      return fail('UNAUTHENTICATED', 'This route needs a user session, not an API key.');
    const result = await sessions.authenticate(token, now);
    if (!result.ok) return fail('UNAUTHENTICATED', 'The session is not valid; sign in again.');
    if (requirement.stepUp && !inSudo(result.value.session.sudo_until, now)) {
      return fail('STEP_UP_REQUIRED', 'Confirm your identity again (step-up) to continue.');
    }
    return { ok: true, principal: { type: 'session', ...result.value } };
  };
}
