import { readCookie, sessionCookie } from '../../../shared/http/cookies.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { clearedStateCookieHeader, SSO_STATE_COOKIE } from '../../../shared/sso/state-cookie.js';
import type { LoginUnitDeps } from '../deps.js';

export const ssoCallback = defineRoute({
  method: 'GET',
  path: '/api/login/sso/callback',
  summary:
    "The OIDC provider's redirect back: checks state (cookie vs query), then the code with PKCE and the ID token (signature, algorithm, issuer, audience, expiry, nonce), provisions the membership, and 302s to returnTo with the session cookie.",
  tags: ['login'],
  auth: { kind: 'none' },
  responses: {
    302: { description: 'Signed in; the session cookie is set' },
    401: {
      description:
        'UNAUTHENTICATED: missing, expired or mismatched state; INVALID_CREDENTIALS: the answer failed a check, the email is unverified or its domain not allowed',
    },
    403: { description: "INSUFFICIENT_ROLE: the person's membership in the org has expired" },
  },
  handler: async ({ req, ip, userAgent, now }, deps: LoginUnitDeps) => {
    const search = new URL(req.url ?? '/', 'http://localhost').search;
    const result = await deps.sso.callback(readCookie(req.headers.cookie, SSO_STATE_COOKIE), search, {
      ip,
      userAgent,
      now,
    });
    if (!result.ok) return result;
    return json(302, undefined, {
      location: result.returnTo,
      'set-cookie': [
        sessionCookie(result.login.token, result.login.session.expiresAt, now),
        clearedStateCookieHeader(),
      ],
    });
  },
});
