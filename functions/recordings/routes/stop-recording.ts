import { z } from 'zod';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { actorOf, type Deps, recordingOrg } from '../deps.js';

export const stopRecording = defineRoute({
  method: 'POST',
  path: '/api/recordings/:id/stop',
  summary: 'Stop a recording; it is archived in the background (status `archiving`, then `archived`).',
  tags: ['recordings'],
  auth: requireOrgRole('member'),
  orgFrom: recordingOrg,
  responses: { 202: { description: 'Stopping', schema: z.object({ status: z.string() }) } },
  handler: async ({ params, principal, ip, now }, deps: Deps) => {
    const id = params.id ?? '';
    const stopped = await deps.recordings.stop(id, actorOf(principal), ip, now);
    if (stopped.ok === false) return stopped;
    const recording = await deps.recordings.get(id);
    return json(202, { status: recording?.status ?? 'archiving' });
  },
});
