import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { sessionView, toSessionView, userView } from '../../../shared/http/views.js';
import type { Core } from '../../../shared/runtime/core.js';

export const currentSession = defineRoute({
  method: 'GET',
  path: '/api/sessions/current',
  summary: 'The session this request is made with, and its user. A revoked or expired token answers 401.',
  tags: ['sessions'],
  auth: { kind: 'session', boundSessions: true, whileHeld: true },
  responses: {
    200: { description: 'The current session', schema: z.object({ session: sessionView, user: userView }) },
  },
  handler: async ({ principal }, _deps: Core) => {
    const { session, user } = requireSession(principal);
    return json(200, {
      session: toSessionView(session),
      user: { id: user.id, email: user.email, name: user.name },
    });
  },
});
