import { fail } from '../../../shared/errors/codes.js';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberActor } from '../actor.js';

export const removeMember = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/members/:userId',
  summary:
    'Remove a member (owners only by owners). In the same transaction their sessions bound to this org end, their other sessions lose the org, and the API keys they created and invitations they sent are revoked (listed in the member.removed audit row). The last permanent owner cannot be removed (409).',
  tags: ['orgs'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: {
    204: { description: 'Removed' },
    409: { description: 'Would leave the org without a permanent owner' },
  },
  handler: async (ctx, deps: Core) => {
    if (!isId(ctx.params.userId)) return fail('NOT_FOUND', 'No such member.');
    const actor = memberActor(ctx);
    const result = await deps.orgs.members.remove(actor.orgId, actor, ctx.params.userId, ctx.now);
    return result.ok ? json(204) : result;
  },
});
