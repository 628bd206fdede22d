import { fail } from '../../../shared/errors/codes.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';

export const leaveOrg = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/leave',
  summary:
    "Leave an org. The member's own decision, so no org policy (SSO, session cap, idle timeout, allowlist, MFA) stands in the way; it ends like a removal: sessions bound to the org are revoked, the others lose the org, and the member's API keys and invitations there are revoked, in one transaction. The last permanent owner cannot leave (409).",
  tags: ['orgs'],
  auth: { kind: 'session' },
  responses: {
    204: { description: 'Left' },
    404: { description: 'Not a member of this org' },
    409: { description: 'The last permanent owner must hand the org over first' },
  },
  handler: async ({ params, principal, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    // A session started for another org (SSO) acts in that org only.
    if (!isId(params.orgId) || (session.org_id !== null && session.org_id !== params.orgId)) {
      return fail('NOT_FOUND', 'You are not a member of this org.');
    }
    const result = await deps.orgs.members.leave(params.orgId, { userId: user.id, ip }, now);
    return result.ok ? json(204) : result;
  },
});
