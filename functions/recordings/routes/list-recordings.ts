import { z } from 'zod';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { recordingStatuses } from '../../../shared/recordings/model.js';
import type { Deps } from '../deps.js';

export const recordingView = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(recordingStatuses),
  startedAt: z.string(),
  stoppedAt: z.string().nullable(),
  /** Size of the gzip archive, once archived. */
  bytes: z.number().nullable(),
  sha256: z.string().nullable(),
});

export const listRecordings = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/recordings',
  summary: "The org's recordings, newest first, with archive size and SHA-256 once archived.",
  tags: ['recordings'],
  auth: requireOrgRole('viewer'),
  responses: { 200: { description: 'Recordings', schema: z.object({ recordings: z.array(recordingView) }) } },
  handler: async ({ org }, deps: Deps) => {
    const recordings = await deps.recordings.list(requireOrg(org).orgId);
    return json(200, {
      recordings: recordings.map((r) => ({
        id: r.id,
        title: r.title,
        status: r.status,
        startedAt: r.startedAt.toISOString(),
        stoppedAt: r.stoppedAt?.toISOString() ?? null,
        bytes: r.bytes,
        sha256: r.sha256,
      })),
    });
  },
});
