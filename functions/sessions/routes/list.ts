import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { sessionView, toSessionView } from '../../../shared/http/views.js';
import type { Core } from '../../../shared/runtime/core.js';
import { stateOf } from '../../../shared/sessions/service.js';

export const listedSession = sessionView.extend({ current: z.boolean() });

export const listSessions = defineRoute({
  method: 'GET',
  path: '/api/sessions',
  summary:
    'Where the user is signed in: every session still valid now, newest first; `current` marks this one.',
  tags: ['sessions'],
  auth: { kind: 'session', whileHeld: true },
  responses: {
    200: { description: 'The live sessions', schema: z.object({ sessions: z.array(listedSession) }) },
  },
  handler: async ({ principal, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const rows = await deps.sessionStore.listUnrevoked(user.id);
    const live = rows.filter((row) => stateOf(row, now) === 'active');
    return json(200, {
      sessions: live.map((row) => ({ ...toSessionView(row), current: row.id === session.id })),
    });
  },
});
