import { presentedToken } from '../../../shared/http/auth.js';
import { readCookie, sessionCookie } from '../../../shared/http/cookies.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { clearedStateCookieHeader, SSO_STATE_COOKIE } from '../../../shared/sso/state-cookie.js';
import type { LoginUnitDeps } from '../deps.js';

export const ssoCallback = defineRoute({
  method: 'GET',
  path: '/api/login/sso/callback',
  summary:
    "The OIDC provider's redirect back: checks state (cookie vs query), then the code with PKCE and the ID token (signature, algorithm, issuer, audience, expiry, nonce). A sign-in finds the account linked to the provider identity, or creates one for an address nobody has registered (never an existing account by its email), provisions the membership, and 302s to returnTo with a session bound to the org. A link (started at POST /api/orgs/{orgId}/sso/link) must come back with the session that started it; it links the identity to that user and 302s to returnTo without a new session.",
  tags: ['login'],
  auth: { kind: 'none' },
  responses: {
    302: { description: 'Signed in (the session cookie is set), or the identity is linked' },
    401: {
      description:
        'UNAUTHENTICATED: missing, expired or mismatched state, or a link finished outside the session that started it; INVALID_CREDENTIALS: the answer failed a check, the email is unverified or its domain not allowed, or the email belongs to an existing account the identity is not linked to (`requirement: "link_identity"`)',
    },
    403: {
      description:
        "INSUFFICIENT_ROLE: the person's membership in the org has expired, the org's SCIM suspended them, or an admin removed them (until an admin's invitation to their address stands)",
    },
    409: { description: 'CONFLICT: the identity is already linked to another account' },
  },
  handler: async ({ req, ip, userAgent, now }, deps: LoginUnitDeps) => {
    const search = new URL(req.url ?? '/', 'http://localhost').search;
    // Only a link needs the caller's session; the service compares it with the one that started.
    const token = presentedToken(req);
    const found =
      typeof token === 'string' ? await deps.sessions.authenticate(token, now, { touch: false }) : null;
    const current = found?.ok ? { sessionId: found.value.session.id, userId: found.value.user.id } : null;
    const result = await deps.sso.callback(
      readCookie(req.headers.cookie, SSO_STATE_COOKIE),
      search,
      { ip, userAgent, now },
      current,
    );
    if (!result.ok) return result;
    const cookies = [clearedStateCookieHeader()];
    if (result.login) cookies.unshift(sessionCookie(result.login.token, result.login.session.expiresAt, now));
    return json(302, undefined, { location: result.returnTo, 'set-cookie': cookies });
  },
});
