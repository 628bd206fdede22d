import { orgChain } from '../../../shared/audit/chain.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { AuditDeps } from '../deps.js';
import { verifyReportView } from './views.js';

export const verifyOrgAuditLog = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/audit/verify',
  summary:
    'Recomputes the org’s hash chain and checks it against the latest signed checkpoint; names the first bad seq (admin+).',
  tags: ['audit'],
  auth: { kind: 'org', minRole: 'admin' },
  responses: { 200: { description: 'The verification report', schema: verifyReportView } },
  handler: async ({ org, log }, deps: AuditDeps) => {
    if (!org) throw new Error('org route without org access');
    const report = await deps.audit.verify(orgChain(org.orgId));
    if (!report.valid) {
      log.warn('audit chain verification failed', {
        orgId: org.orgId,
        brokenAtSeq: report.brokenAtSeq,
        reason: report.reason,
      });
    }
    return json(200, report);
  },
});
