import { orgChain } from '../../../shared/audit/chain.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { AuditRouteDeps } from '../deps.js';
import { verifyReportView } from './views.js';

export const verifyOrgAuditLog = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/audit/verify',
  summary:
    'Recomputes the org’s hash chain and checks it against the latest signed checkpoint; names the first bad seq (admin+).',
  tags: ['audit'],
  auth: requireOrgRole('admin'),
  responses: { 200: { description: 'The verification report', schema: verifyReportView } },
  handler: async ({ org, log }, deps: AuditRouteDeps) => {
    const { orgId } = requireOrg(org);
    const report = await deps.audit.verify(orgChain(orgId));
    if (!report.valid) {
      log.warn('audit chain verification failed', {
        orgId,
        brokenAtSeq: report.brokenAtSeq,
        reason: report.reason,
      });
    }
    return json(200, report);
  },
});
