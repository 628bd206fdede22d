import { z } from 'zod';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { actorOf, type Deps } from '../deps.js';

export const startRecording = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/recordings',
  summary: 'Start a terminal recording (asciicast v2); frames follow on /api/recordings/:id/frames.',
  tags: ['recordings'],
  auth: requireOrgRole('member'),
  body: z.strictObject({
    title: z.string().trim().min(1).max(200),
    width: z.number().int().min(1).max(1000),
    height: z.number().int().min(1).max(1000),
    machineId: z.string().min(1).max(128).optional(),
  }),
  responses: { 201: { description: 'Started', schema: z.object({ id: z.uuid() }) } },
  handler: async ({ body, org, principal, ip, now }, deps: Deps) => {
    const started = await deps.recordings.start(requireOrg(org).orgId, body, actorOf(principal), ip, now);
    return json(201, started);
  },
});
