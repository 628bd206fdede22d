import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import { samlStateCookieHeader } from '../../../shared/sso/saml-state.js';
import { stateCookieHeader } from '../../../shared/sso/state-cookie.js';
import type { LoginUnitDeps } from '../deps.js';

export const ssoStart = defineRoute({
  method: 'GET',
  path: '/api/login/sso/:orgSlug',
  summary:
    'Start single sign-on for an org: 302 to its OIDC provider (authorization code + PKCE, state and nonce in an HttpOnly signed cookie), or for a SAML org to its IdP with an AuthnRequest (HTTP-Redirect binding; the request id in an HttpOnly signed SameSite=None cookie, since the answer is a cross-site POST), each for 10 minutes. `returnTo` must be on a configured app origin.',
  tags: ['login'],
  auth: { kind: 'none' },
  query: z.object({ returnTo: z.string().max(2048).optional() }),
  responses: {
    302: { description: "Redirect to the org's identity provider" },
    400: { description: 'VALIDATION_FAILED: returnTo is not on an app origin' },
    404: { description: 'NOT_FOUND: no such org, or it has no SSO' },
  },
  handler: async ({ params, query, ip, now }, deps: LoginUnitDeps) => {
    const viaSaml = await deps.saml.start(params.orgSlug ?? '', query.returnTo, { ip, now });
    if (viaSaml) {
      if (!viaSaml.ok) return viaSaml;
      return json(302, undefined, {
        location: viaSaml.location,
        'set-cookie': samlStateCookieHeader(viaSaml.stateCookie),
      });
    }
    const started = await deps.sso.start(params.orgSlug ?? '', query.returnTo, { ip, now });
    if (!started.ok) return started;
    return json(302, undefined, {
      location: started.location,
      'set-cookie': stateCookieHeader(started.stateCookie),
    });
  },
});
