import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import { perIpLimit, rateLimitedResponse, tokenField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';

export const confirmLogin = defineRoute({
  method: 'POST',
  path: '/api/accounts/login-confirmation',
  summary:
    'Answer the "was this you?" mail of an impossible-travel sign-in (single-use link, 15 minutes). "yes" lets that session act; "no" ends it and mails a password-reset link.',
  tags: ['accounts'],
  auth: { kind: 'none' },
  body: z.strictObject({ token: tokenField, answer: z.enum(['yes', 'no']) }),
  responses: {
    200: {
      description: 'Answered',
      schema: z.object({
        status: z.enum(['confirmed', 'denied']),
        sessionId: z.string(),
        passwordResetMailed: z.boolean(),
      }),
    },
    400: { description: 'VALIDATION_FAILED: the link is invalid, expired or already used' },
    429: rateLimitedResponse(perIpLimit),
  },
  handler: async ({ body, ip, now }, deps: Core) => {
    const limited = await deps.requestThrottle.perIp('login-confirmation', ip, now);
    if (limited) return limited;
    const result = await deps.loginConfirmation.answer(body.token, body.answer, { ip, now });
    if (!result.ok) return result;
    return json(200, {
      status: body.answer === 'yes' ? 'confirmed' : 'denied',
      sessionId: result.sessionId,
      passwordResetMailed: result.passwordResetMailed,
    });
  },
});
