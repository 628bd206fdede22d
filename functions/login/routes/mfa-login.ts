import { z } from 'zod';
import { defineRoute } from '../../../shared/http/route.js';
import { mfaCodeField, tokenField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';
import { loginReply, loginResponse } from './password-login.js';

export const mfaLogin = defineRoute({
  method: 'POST',
  path: '/api/login/mfa',
  edgeThrottled: true,
  summary:
    'Second login step for users with MFA: the mfaToken from the 401 MFA_REQUIRED answer (5 minutes, single use, same client) and a TOTP or backup code. Five wrong codes in a row lock MFA login and step-up for 15 minutes.',
  tags: ['login'],
  auth: { kind: 'none' },
  body: z.strictObject({ mfaToken: tokenField, code: mfaCodeField }),
  responses: {
    200: { description: 'Signed in; the session cookie is set', schema: loginResponse },
    401: {
      description:
        'Wrong or used code (INVALID_CREDENTIALS); expired, used or foreign mfaToken (UNAUTHENTICATED)',
    },
    429: { description: 'Locked after five wrong codes in a row (RATE_LIMITED, Retry-After)' },
  },
  handler: async ({ body, ip, userAgent, now }, deps: Core) => {
    const result = await deps.login.mfaLogin(body, { ip, userAgent, now });
    return result.ok ? loginReply(result, now) : result;
  },
});
