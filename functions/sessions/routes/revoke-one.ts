import { clearedSessionCookie } from '../../../shared/http/cookies.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const revokeSession = defineRoute({
  method: 'DELETE',
  path: '/api/sessions/:id',
  summary:
    'End one of your own sessions; its token fails on the next request. Another user’s session id answers 404; an already ended one 204.',
  tags: ['sessions'],
  auth: { kind: 'session' },
  responses: { 204: { description: 'The session is ended' } },
  handler: async ({ principal, params, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const target = params.id ?? '';
    const result = await deps.sessionCommands.revokeOne(
      { userId: user.id, sessionId: session.id, ip, now },
      target,
    );
    if (!result.ok) return result;
    return json(204, undefined, target === session.id ? { 'set-cookie': clearedSessionCookie() } : undefined);
  },
});
