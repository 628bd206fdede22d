import { orgActions } from '../../../shared/audit/actions.js';
import { orgChain } from '../../../shared/audit/chain.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { AuditRouteDeps } from '../deps.js';
import { auditPageView, auditQuery, listFilters, toAuditEventView } from './views.js';

export const orgAuditLog = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/audit',
  summary: 'The org’s audit log, newest first, with filters and keyset pagination (admin+).',
  tags: ['audit'],
  auth: requireOrgRole('admin'),
  query: auditQuery(orgActions),
  responses: { 200: { description: 'One page of events', schema: auditPageView } },
  handler: async ({ query, org }, deps: AuditRouteDeps) => {
    const { orgId } = requireOrg(org);
    const page = await deps.audit.list(orgChain(orgId), listFilters(query));
    return json(200, { events: page.events.map(toAuditEventView), nextCursor: page.nextCursor });
  },
});
