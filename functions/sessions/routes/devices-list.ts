import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import type { DeviceRow } from '../../../shared/sessions/devices.js';

export const deviceView = z.object({
  id: z.string(),
  fingerprint: z.string(),
  trusted: z.boolean(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  userAgent: z.string().nullable(),
  /** Where the device last signed in from (null: unknown or a private address). */
  country: z.string().nullable(),
  city: z.string().nullable(),
});

export function toDeviceView(row: DeviceRow): z.infer<typeof deviceView> {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    trusted: row.trusted,
    firstSeenAt: row.first_seen_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    userAgent: row.user_agent,
    country: row.country,
    city: row.city,
  };
}

export const listDevices = defineRoute({
  method: 'GET',
  path: '/api/sessions/devices',
  summary:
    'The devices (IP and browser) you signed in from, most recently seen first; forgotten ones are left out.',
  tags: ['sessions'],
  auth: { kind: 'session', whileHeld: true },
  responses: { 200: { description: 'Known devices', schema: z.object({ devices: z.array(deviceView) }) } },
  handler: async ({ principal }, deps: Core) => {
    const { user } = requireSession(principal);
    return json(200, { devices: (await deps.devices.list(user.id)).map(toDeviceView) });
  },
});
