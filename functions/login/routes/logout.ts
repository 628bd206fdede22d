import { clearedSessionCookie } from '../../../shared/http/cookies.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const logout = defineRoute({
  method: 'POST',
  path: '/api/login/logout',
  summary: 'End the current session; its token stops working at once.',
  tags: ['login'],
  auth: { kind: 'session', boundSessions: true },
  responses: { 204: { description: 'Signed out; the cookie is cleared' } },
  handler: async ({ principal, now }, deps: Core) => {
    const { session } = requireSession(principal);
    await deps.platform.db.transaction().execute(async (tx) => {
      const revoked = await deps.sessions.revokeById(tx, session.id, 'logout', now);
      await deps.sessions.announceRevoked(tx, revoked, 'logout', now);
    });
    return json(204, undefined, { 'set-cookie': clearedSessionCookie() });
  },
});
