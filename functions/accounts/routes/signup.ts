import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import {
  emailField,
  passwordField,
  perIpLimit,
  rateLimitedResponse,
  statusOnly,
} from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';

export const signup = defineRoute({
  method: 'POST',
  path: '/api/accounts/signup',
  edgeThrottled: true,
  summary:
    'Create an account; a verification link is mailed. For an address that already has an account nothing changes and its owner is mailed a reset link; the answer is the same either way. At most 3 signup mails per address per hour (silently).',
  tags: ['accounts'],
  auth: { kind: 'none' },
  body: z.strictObject({
    email: emailField,
    password: passwordField,
    name: z.string().trim().min(1).max(200),
  }),
  responses: {
    202: {
      description: 'Verification mail sent (or the owner of a taken address told)',
      schema: statusOnly('verification_sent'),
    },
    429: rateLimitedResponse(perIpLimit),
  },
  handler: async ({ body, ip, now }, deps: Core) => {
    const limited = await deps.requestThrottle.perIp('signup', ip, now);
    if (limited) return limited;
    const result = await deps.accounts.signup(body, { ip, now });
    return result.ok ? json(202, { status: 'verification_sent' }) : result;
  },
});
