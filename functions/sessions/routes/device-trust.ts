import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { deviceView, toDeviceView } from './devices-list.js';

export const trustDevice = defineRoute({
  method: 'POST',
  path: '/api/sessions/devices/:id/trust',
  summary: 'Mark one of your devices as trusted (opt-in). Another user’s device id answers 404.',
  tags: ['sessions'],
  auth: { kind: 'session' },
  responses: { 200: { description: 'The device, now trusted', schema: z.object({ device: deviceView }) } },
  handler: async ({ principal, params, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const result = await deps.sessionCommands.trustDevice(
      { userId: user.id, sessionId: session.id, ip, now },
      params.id ?? '',
    );
    return result.ok ? json(200, { device: toDeviceView(result.device) }) : result;
  },
});
