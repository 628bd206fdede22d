import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import {
  emailField,
  passwordField,
  perIpLimit,
  rateLimitedResponse,
  statusOnly,
  tokenField,
} from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';

export const requestPasswordReset = defineRoute({
  method: 'POST',
  path: '/api/accounts/password-reset/request',
  edgeThrottled: true,
  summary:
    'Mail a password-reset link (1 h, single use; also sets a first password on accounts made by SSO or Google/GitHub). Answers 202 for known and unknown addresses; at most 3 reset mails per address per hour (silently).',
  tags: ['accounts'],
  auth: { kind: 'none' },
  body: z.strictObject({ email: emailField }),
  responses: {
    202: { description: 'Accepted', schema: statusOnly('reset_sent') },
    429: rateLimitedResponse(perIpLimit),
  },
  handler: async ({ body, ip, now }, deps: Core) => {
    const limited = await deps.requestThrottle.perIp('password-reset', ip, now);
    if (limited) return limited;
    await deps.accounts.requestPasswordReset(body.email, { ip, now });
    return json(202, { status: 'reset_sent' });
  },
});

export const confirmPasswordReset = defineRoute({
  method: 'POST',
  path: '/api/accounts/password-reset/confirm',
  edgeThrottled: true,
  summary: 'Set a new password with a reset token; every session of the user ends.',
  tags: ['accounts'],
  auth: { kind: 'none' },
  body: z.strictObject({ token: tokenField, newPassword: passwordField }),
  responses: {
    200: {
      description: 'Password changed',
      schema: z.object({ status: z.literal('password_reset'), sessionsRevoked: z.number() }),
    },
  },
  handler: async ({ body, ip, now }, deps: Core) => {
    const result = await deps.accounts.confirmPasswordReset(body.token, body.newPassword, { ip, now });
    return result.ok ? json(200, { status: 'password_reset', sessionsRevoked: result.revoked }) : result;
  },
});
