import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { actorOf, type Deps, recordingOrg } from '../deps.js';

export const playbackUrl = defineRoute({
  method: 'GET',
  path: '/api/recordings/:id/playback',
  summary: 'A signed URL, valid 15 minutes, that serves the gzip asciicast as an attachment.',
  tags: ['recordings'],
  auth: requireOrgRole('viewer'),
  orgFrom: recordingOrg,
  responses: {
    200: { description: 'Signed URL', schema: z.object({ url: z.string(), expiresAt: z.string() }) },
    404: { description: 'No such recording, or its archive is missing from storage' },
    409: { description: 'The recording is not archived (yet)' },
  },
  handler: async ({ params, principal, ip, now, log }, deps: Deps) => {
    const recording = await deps.recordings.get(params.id ?? '');
    if (!recording) return fail('NOT_FOUND');
    if (recording.status !== 'archived' || !recording.blobKey) {
      return fail('CONFLICT', `The recording is ${recording.status}; playback needs an archived recording.`);
    }
    // Never a link to nothing: storage confirms the object first (an outage there answers 503).
    if (!(await deps.blobs.exists(recording.blobKey))) {
      log.error('archived recording missing from storage', { recordingId: recording.id });
      return fail('NOT_FOUND', 'The archived recording is missing from storage.');
    }
    const link = await deps.playback.issue({ id: recording.id, blobKey: recording.blobKey }, now);
    await deps.recordings.auditPlayback(recording, actorOf(principal), ip, link.expiresAt, now);
    return json(200, { url: link.url, expiresAt: link.expiresAt.toISOString() });
  },
});
