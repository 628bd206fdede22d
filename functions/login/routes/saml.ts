import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../../shared/http/body.js';
import { readCookie, sessionCookie } from '../../../shared/http/cookies.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { clearedSamlStateCookieHeader, SAML_STATE_COOKIE } from '../../../shared/sso/saml-state.js';
import type { LoginUnitDeps } from '../deps.js';

export const samlMetadata = defineRoute({
  method: 'GET',
  path: '/api/login/saml/:orgSlug/metadata',
  summary:
    'Our SAML service-provider metadata for an org whose SSO is SAML: its entity ID (this URL) and the ACS (POST binding) to register at the IdP; assertions must be signed.',
  tags: ['login'],
  auth: { kind: 'none' },
  responses: {
    200: { description: 'SP metadata (application/samlmetadata+xml)' },
    404: { description: 'NOT_FOUND: no such org, or its SSO is not SAML' },
  },
  handler: async ({ params }, deps: LoginUnitDeps) => {
    const xml = await deps.saml.metadata(params.orgSlug ?? '');
    if (xml === null) return fail('NOT_FOUND', 'This organization has no SAML single sign-on.');
    return {
      status: 200,
      raw: Buffer.from(xml, 'utf8'),
      headers: { 'content-type': 'application/samlmetadata+xml; charset=utf-8' },
    };
  },
});

/** The POST binding's form, parsed from the urlencoded body (the only media type this route takes). */
const acsForm = z
  .instanceof(Buffer)
  .transform((raw) => Object.fromEntries(new URLSearchParams(raw.toString('utf8'))))
  .pipe(
    z.object({
      SAMLResponse: z.string().min(1).max(DEFAULT_BODY_LIMIT_BYTES),
      RelayState: z.string().max(2048).optional(),
    }),
  );

export const samlAcs = defineRoute({
  method: 'POST',
  path: '/api/login/saml/acs',
  summary:
    "The IdP's answer (HTTP-POST binding: form fields SAMLResponse, RelayState). Accepted only for a request this browser started (state cookie, single use, InResponseTo), with a signed assertion (RSA-SHA256 or stronger) from the org's IdP certificates, audience = our entity ID, Recipient/Destination = this ACS, inside NotBefore/NotOnOrAfter (3 minutes of skew), its id never seen before. Then the same account rules as OIDC SSO, and 302 to returnTo with a session bound to the org.",
  tags: ['login'],
  auth: { kind: 'none' },
  contentTypes: ['application/x-www-form-urlencoded'],
  bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
  body: acsForm,
  responses: {
    302: { description: 'Signed in; the session cookie is set' },
    401: {
      description:
        'UNAUTHENTICATED: no, expired or foreign state cookie (unsolicited answers included); INVALID_CREDENTIALS: the answer failed a check, or the email belongs to an existing account not linked (`requirement: "link_identity"` or `"confirm_link_by_mail"`)',
    },
    403: {
      description:
        "INSUFFICIENT_ROLE: the person's membership in the org has expired, the org's SCIM suspended them, or an admin removed them (until an admin's invitation to their address stands)",
    },
    404: { description: 'NOT_FOUND: the org no longer uses SAML' },
    415: { description: 'UNSUPPORTED_MEDIA_TYPE: not a urlencoded form' },
  },
  handler: async ({ req, body, ip, userAgent, now }, deps: LoginUnitDeps) => {
    const result = await deps.saml.acs(readCookie(req.headers.cookie, SAML_STATE_COOKIE), body.SAMLResponse, {
      ip,
      userAgent,
      now,
    });
    if (!result.ok) return result;
    return json(302, undefined, {
      location: result.returnTo,
      'set-cookie': [
        sessionCookie(result.login.token, result.login.session.expiresAt, now),
        clearedSamlStateCookieHeader(),
      ],
    });
  },
});
