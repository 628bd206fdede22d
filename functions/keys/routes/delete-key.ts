import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const deleteKey = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/keys/:id',
  summary:
    "Revoke an API key; it fails on the very next request. Another org's key, an unknown or an already revoked one answers 404.",
  tags: ['keys'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: { 204: { description: 'Revoked' }, 404: { description: 'No such key in this org' } },
  handler: async ({ params, principal, org, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.apiKeys.revoke(
      requireOrg(org).orgId,
      params.id ?? '',
      { userId: user.id, ip },
      now,
    );
    return result.ok ? json(204) : result;
  },
});
