import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { LoginUnitDeps } from '../deps.js';

/**
 * The link in the mail an existing account's owner gets when the org that verified their email
 * domain signs them in through its IdP for the first time: their click, not the IdP, links them.
 */
export const ssoConfirmLink = defineRoute({
  method: 'POST',
  path: '/api/login/sso/confirm-link',
  edgeThrottled: true,
  summary:
    "Confirm, with the token from the mail, that the org which verified your email domain may sign you in through its single sign-on. Links the identity its IdP asserted to your account (once, within 24 hours); sign in through the org's SSO afterwards.",
  tags: ['login'],
  auth: { kind: 'none' },
  body: z.strictObject({ token: z.string().min(16).max(256) }),
  responses: {
    200: { description: 'Linked', schema: z.object({ linked: z.literal(true), orgSlug: z.string() }) },
    400: {
      description:
        'VALIDATION_FAILED: the token is invalid, used or expired, or the org changed its provider or no longer holds the domain',
    },
    409: { description: 'CONFLICT: the identity is already linked to another account' },
  },
  handler: async ({ body, ip, userAgent, now }, deps: LoginUnitDeps) => {
    const result = await deps.sso.confirmLink(body.token, { ip, userAgent, now });
    return result.ok ? json(200, { linked: true, orgSlug: result.orgSlug }) : result;
  },
});
