import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import { perIpLimit, rateLimitedResponse, statusOnly, tokenField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';

export const verifyEmail = defineRoute({
  method: 'POST',
  path: '/api/accounts/verify-email',
  summary: 'Confirm an email address with the token from the verification mail (single use, 24 h).',
  tags: ['accounts'],
  auth: { kind: 'none' },
  body: z.strictObject({ token: tokenField }),
  responses: {
    200: { description: 'Verified', schema: statusOnly('verified') },
    429: rateLimitedResponse(perIpLimit),
  },
  handler: async ({ body, ip, now }, deps: Core) => {
    const limited = await deps.requestThrottle.perIp('verify-email', ip, now);
    if (limited) return limited;
    const result = await deps.accounts.verifyEmail(body.token, { ip, now });
    return result.ok ? json(200, { status: 'verified' }) : result;
  },
});
