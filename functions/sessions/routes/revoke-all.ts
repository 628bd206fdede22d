import { z } from 'zod';
import { clearedSessionCookie } from '../../../shared/http/cookies.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const revokeAllSessions = defineRoute({
  method: 'POST',
  path: '/api/sessions/revoke-all',
  summary: 'End every session of yours, this one included.',
  tags: ['sessions'],
  auth: { kind: 'session' },
  responses: { 200: { description: 'How many sessions ended', schema: z.object({ revoked: z.number() }) } },
  handler: async ({ principal, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const result = await deps.sessionCommands.revokeAll({ userId: user.id, sessionId: session.id, ip, now });
    return json(200, result, { 'set-cookie': clearedSessionCookie() });
  },
});
