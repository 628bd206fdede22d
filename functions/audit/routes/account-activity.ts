import { accountActions } from '../../../shared/audit/actions.js';
import { userChain } from '../../../shared/audit/chain.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { AuditRouteDeps } from '../deps.js';
import { auditPageView, auditQuery, listFilters, toAuditEventView } from './views.js';

export const accountActivity = defineRoute({
  method: 'GET',
  path: '/api/accounts/activity',
  summary: 'The caller’s own account events (logins, password and MFA changes…), newest first.',
  tags: ['audit', 'accounts'],
  auth: { kind: 'session' },
  query: auditQuery(accountActions),
  responses: { 200: { description: 'One page of events', schema: auditPageView } },
  handler: async ({ query, principal }, deps: AuditRouteDeps) => {
    const { user } = requireSession(principal);
    const page = await deps.audit.list(userChain(user.id), listFilters(query));
    return json(200, { events: page.events.map(toAuditEventView), nextCursor: page.nextCursor });
  },
});
