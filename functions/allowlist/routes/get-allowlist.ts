import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { allowlistView } from '../views.js';

export const getAllowlist = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/allowlist',
  summary: "The org's IP allowlist: whether it is enforced, and its entries (canonical CIDRs with labels).",
  tags: ['allowlist'],
  auth: requireOrgRole('admin'),
  responses: { 200: { description: 'The list', schema: allowlistView } },
  handler: async ({ org }, deps: Core) => {
    const list = await deps.allowlists.service.view(requireOrg(org).orgId);
    return json(200, { enabled: list.enabled, entries: list.entries });
  },
});
