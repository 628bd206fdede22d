import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const revokeOtherSessions = defineRoute({
  method: 'POST',
  path: '/api/sessions/revoke-others',
  summary: 'End every session of yours except this one.',
  tags: ['sessions'],
  auth: { kind: 'session' },
  responses: { 200: { description: 'How many sessions ended', schema: z.object({ revoked: z.number() }) } },
  handler: async ({ principal, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const result = await deps.sessionCommands.revokeOthers({
      userId: user.id,
      sessionId: session.id,
      ip,
      now,
    });
    return json(200, result);
  },
});
