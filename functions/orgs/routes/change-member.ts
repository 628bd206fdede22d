import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberActor } from '../actor.js';
import { ownerGrantNeedsStepUp } from '../owner-grant.js';
import { roleField, timestampField } from '../views.js';

export const changeMember = defineRoute({
  method: 'PATCH',
  path: '/api/orgs/:orgId/members/:userId',
  summary:
    "Change a member's role and/or membership expiry (null: never expires). Only owners grant, change or revoke owner, and granting it (ownership transfer) needs step-up; the last permanent owner cannot be demoted (409). Raising a role ends the member's sessions that can act in the org (personal ones and those started for it): they sign in again to use it. A demotion ends no session but revokes, in the same transaction, the API keys the member created above the new role and the invitations they could no longer send (listed in the member.role_changed audit row).",
  tags: ['orgs'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  body: z
    .strictObject({ role: roleField.optional(), expiresAt: timestampField.nullable().optional() })
    .refine((b) => b.role !== undefined || b.expiresAt !== undefined, {
      message: 'give role and/or expiresAt',
    }),
  responses: {
    200: {
      description: 'Changed',
      schema: z.object({ userId: z.string(), role: roleField, expiresAt: z.string().nullable() }),
    },
    403: {
      description:
        'Not allowed for your role (INSUFFICIENT_ROLE); granting owner outside step-up (STEP_UP_REQUIRED)',
    },
    409: { description: 'Would leave the org without a permanent owner' },
  },
  handler: async (ctx, deps: Core) => {
    if (!isId(ctx.params.userId)) return fail('NOT_FOUND', 'No such member.');
    const actor = memberActor(ctx);
    const { role, expiresAt } = ctx.body;
    const stepUp = ownerGrantNeedsStepUp(ctx, role);
    if (stepUp) return stepUp;
    const result = await deps.orgs.members.change(
      actor.orgId,
      actor,
      ctx.params.userId,
      {
        ...(role !== undefined ? { role } : {}),
        ...(expiresAt !== undefined ? { expiresAt: expiresAt === null ? null : new Date(expiresAt) } : {}),
      },
      ctx.now,
    );
    if (!result.ok) return result;
    const m = result.member;
    return json(200, { userId: m.userId, role: m.role, expiresAt: m.expiresAt?.toISOString() ?? null });
  },
});
