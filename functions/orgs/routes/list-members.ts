import { z } from 'zod';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberView, toMemberView } from '../views.js';

export const listMembers = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/members',
  summary: "The org's members with their roles and membership expiry.",
  tags: ['orgs'],
  auth: requireOrgRole('viewer'),
  responses: { 200: { description: 'Members', schema: z.object({ members: z.array(memberView) }) } },
  handler: async ({ org }, deps: Core) => {
    const members = await deps.orgs.directory.members(requireOrg(org).orgId);
    return json(200, { members: members.map(toMemberView) });
  },
});
