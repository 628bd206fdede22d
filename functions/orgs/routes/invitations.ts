import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberActor } from '../actor.js';
import { roleField } from '../views.js';

const pendingInvitationView = z.object({
  id: z.string(),
  email: z.string(),
  role: roleField,
  /** The inviter's user id (null once their account is gone). */
  invitedBy: z.string().nullable(),
  /** When the invitation itself lapses (7 days after it was sent), not the membership it grants. */
  expiresAt: z.string(),
});

export const listInvitations = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/invitations',
  summary:
    "The org's pending invitations: not yet accepted, withdrawn or expired. expiresAt is when the invitation lapses.",
  tags: ['orgs'],
  auth: requireOrgRole('admin'),
  responses: {
    200: {
      description: 'Pending invitations, oldest first',
      schema: z.object({ invitations: z.array(pendingInvitationView) }),
    },
  },
  handler: async ({ org, now }, deps: Core) => {
    const pending = await deps.orgs.invitations.pending(requireOrg(org).orgId, now);
    return json(200, {
      invitations: pending.map((i) => ({ ...i, expiresAt: i.expiresAt.toISOString() })),
    });
  },
});

export const withdrawInvitation = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/invitations/:id',
  summary:
    "Withdraw a pending invitation: its mailed link stops working at once. Audited as invitation.revoked. Another org's, an accepted or an unknown invitation answers 404.",
  tags: ['orgs'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: {
    204: { description: 'Withdrawn' },
    404: { description: 'No such pending invitation in this org' },
  },
  handler: async (ctx, deps: Core) => {
    if (!isId(ctx.params.id)) return fail('NOT_FOUND', 'No such invitation.');
    const actor = memberActor(ctx);
    const withdrawn = await deps.orgs.invitations.withdraw(actor.orgId, actor, ctx.params.id, ctx.now);
    return withdrawn ? json(204) : fail('NOT_FOUND', 'No such invitation.');
  },
});
