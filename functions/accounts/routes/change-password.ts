import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { passwordField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';

export const changePassword = defineRoute({
  method: 'POST',
  path: '/api/accounts/password',
  summary: 'Change the password (needs step-up); the user’s other sessions end.',
  tags: ['accounts'],
  auth: { kind: 'session', stepUp: true },
  body: z.strictObject({ currentPassword: passwordField, newPassword: passwordField }),
  responses: {
    200: {
      description: 'Changed',
      schema: z.object({ status: z.literal('password_changed'), sessionsRevoked: z.number() }),
    },
  },
  handler: async ({ body, principal, ip, now }, deps: Core) => {
    const session = requireSession(principal);
    const result = await deps.accounts.changePassword(
      { userId: session.user.id, sessionId: session.session.id, ...body },
      { ip, now },
    );
    return result.ok ? json(200, { status: 'password_changed', sessionsRevoked: result.revoked }) : result;
  },
});
