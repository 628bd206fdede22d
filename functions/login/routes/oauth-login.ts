import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { defineRoute } from '../../../shared/http/route.js';
import { perIpLimit, rateLimitedResponse } from '../../../shared/http/schemas.js';
import type { LoginUnitDeps } from '../deps.js';
import { loginReply, loginResponse } from './password-login.js';

export const oauthLogin = defineRoute({
  method: 'POST',
  path: '/api/login/oauth',
  edgeThrottled: true,
  summary:
    'Sign in with Google or GitHub through Firebase Auth: a Firebase ID token (verified email) links to the account with that email or creates one; the session is ours. The identity is a first factor: users with MFA then give a code.',
  tags: ['login'],
  auth: { kind: 'none' },
  body: z.strictObject({ idToken: z.string().min(20).max(8192) }),
  responses: {
    200: { description: 'Signed in; the session cookie is set', schema: loginResponse },
    401: {
      description:
        'INVALID_CREDENTIALS: invalid, expired or foreign token, or unverified email; MFA_REQUIRED with error.mfaToken for users with MFA (finish with POST /api/login/mfa)',
    },
    403: { description: 'EMAIL_NOT_VERIFIED: an unconfirmed password account holds this email' },
    429: rateLimitedResponse(perIpLimit),
  },
  handler: async ({ body, ip, userAgent, now }, deps: LoginUnitDeps) => {
    if (!deps.oauth) return fail('NOT_FOUND', 'Google and GitHub sign-in are not configured here.');
    const limited = await deps.requestThrottle.perIp('login-oauth', ip, now);
    if (limited) return limited;
    const result = await deps.oauth.login(body.idToken, { ip, userAgent, now });
    return result.ok ? loginReply(result, now) : result;
  },
});
