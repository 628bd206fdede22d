import { z } from 'zod';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { callerOf, type Deps, recordingOrg } from '../deps.js';

export const stopRecording = defineRoute({
  method: 'POST',
  path: '/api/recordings/:id/stop',
  summary:
    'Stop a recording (its starter, or an admin+ of the org); it is archived in the background (status `archiving`, then `archived`).',
  tags: ['recordings'],
  auth: requireOrgRole('member'),
  orgFrom: recordingOrg,
  responses: {
    202: { description: 'Stopping', schema: z.object({ status: z.string() }) },
    403: {
      description:
        'INSUFFICIENT_ROLE: a viewer, or a member (user or API key) who did not start the recording (audited as recording.stop_refused)',
    },
  },
  handler: async ({ params, principal, org, ip, now }, deps: Deps) => {
    const id = params.id ?? '';
    const stopped = await deps.recordings.stop(id, callerOf(principal, org), ip, now);
    if (stopped.ok === false) return stopped;
    const recording = await deps.recordings.get(id);
    return json(202, { status: recording?.status ?? 'archiving' });
  },
});
