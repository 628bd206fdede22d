import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { stateCookieHeader } from '../../../shared/sso/state-cookie.js';
import type { LoginUnitDeps } from '../deps.js';

/**
 * "Link your <org> identity": the only way an existing account gets an org SSO identity. A
 * session route, not an org route: a personal session of the account's owner (never one an org's
 * SSO started), stepped up, and not held back by the org's SSO-only rule, which linking is how
 * one satisfies.
 */
export const ssoLink = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/sso/link',
  summary:
    "Start linking your account to the org's identity provider (a personal session, step-up): answers the provider's authorization URL to open, and sets the state cookie naming this session. The provider's redirect back to /api/login/sso/callback, in this same session, links the identity it answers with; from then on that identity signs you in to this org (a session bound to the org).",
  tags: ['sso'],
  auth: { kind: 'session', stepUp: true },
  body: z.strictObject({ returnTo: z.string().max(2048).optional() }),
  responses: {
    200: {
      description: 'Open authorizationUrl in this browser; the state cookie is set for 10 minutes',
      schema: z.object({ authorizationUrl: z.string() }),
    },
    400: { description: 'VALIDATION_FAILED: returnTo is not on an app origin' },
    403: {
      description:
        'STEP_UP_REQUIRED: step up first; INSUFFICIENT_ROLE (`requirement: "personal_session"`): a session started through an org\'s SSO cannot link',
    },
    404: { description: 'NOT_FOUND: no such org, or it has no SSO' },
  },
  handler: async ({ principal, params, body, ip, now }, deps: LoginUnitDeps) => {
    const { session, user } = requireSession(principal);
    const started = await deps.sso.startLink(
      params.orgId ?? '',
      { userId: user.id, sessionId: session.id },
      body.returnTo,
      { ip, now },
    );
    if (!started.ok) return started;
    return json(
      200,
      { authorizationUrl: started.location },
      { 'set-cookie': stateCookieHeader(started.stateCookie) },
    );
  },
});
