import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const forgetDevice = defineRoute({
  method: 'DELETE',
  path: '/api/sessions/devices/:id',
  summary:
    'Forget one of your devices: it is soft-deleted and every session started on it ends. The next login from it counts as a new device.',
  tags: ['sessions'],
  auth: { kind: 'session' },
  responses: { 204: { description: 'Forgotten' } },
  handler: async ({ principal, params, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const result = await deps.sessionCommands.forgetDevice(
      { userId: user.id, sessionId: session.id, ip, now },
      params.id ?? '',
    );
    return result.ok ? json(204) : result;
  },
});
