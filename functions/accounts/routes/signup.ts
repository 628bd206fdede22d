import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import { emailField, passwordField, statusOnly } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';

export const signup = defineRoute({
  method: 'POST',
  path: '/api/accounts/signup',
  edgeThrottled: true,
  summary:
    'Create an account; a verification link is mailed. Same answer whether or not the email is registered.',
  tags: ['accounts'],
  auth: { kind: 'none' },
  body: z.strictObject({
    email: emailField,
    password: passwordField,
    name: z.string().trim().min(1).max(200),
  }),
  responses: {
    202: {
      description: 'Verification mail sent (or nothing to do)',
      schema: statusOnly('verification_sent'),
    },
  },
  handler: async ({ body, ip, now }, deps: Core) => {
    const result = await deps.accounts.signup(body, { ip, now });
    return result.ok ? json(202, { status: 'verification_sent' }) : result;
  },
});
