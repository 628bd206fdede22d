import { z } from 'zod';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { keyView, toKeyView } from '../views.js';

export const listKeys = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/keys',
  summary:
    "The org's API keys that are not revoked: display prefix, role, expiry and last use, never secrets.",
  tags: ['keys'],
  auth: requireOrgRole('admin'),
  responses: { 200: { description: 'Keys', schema: z.object({ keys: z.array(keyView) }) } },
  handler: async ({ org }, deps: Core) => {
    const rows = await deps.apiKeys.list(requireOrg(org).orgId);
    return json(200, { keys: rows.map(toKeyView) });
  },
});
