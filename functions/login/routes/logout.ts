import { clearedSessionCookie } from '../../../shared/http/cookies.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const logout = defineRoute({
  method: 'POST',
  path: '/api/login/logout',
  summary: 'End the current session; its token stops working at once.',
  tags: ['login'],
  auth: { kind: 'session', boundSessions: true, whileHeld: true },
  responses: { 204: { description: 'Signed out; the cookie is cleared' } },
  handler: async ({ principal, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    await deps.platform.db.transaction().execute(async (tx) => {
      const revoked = await deps.sessions.revokeById(tx, session.id, 'logout', now);
      // Audited in the user's chain like any other revocation, with reason `logout`.
      await deps.sessions.announceRevoked(tx, revoked, 'logout', now, { actorId: user.id, ip });
    });
    return json(204, undefined, { 'set-cookie': clearedSessionCookie() });
  },
});
