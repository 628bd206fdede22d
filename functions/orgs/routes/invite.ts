import { z } from 'zod';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { emailField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberActor } from '../actor.js';
import { roleField, timestampField } from '../views.js';

export const invitationView = z.object({
  id: z.string(),
  email: z.string(),
  role: roleField,
  expiresAt: z.string().nullable(),
  invitationExpiresAt: z.string(),
});

export const invite = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/invitations',
  summary:
    'Invite someone by email with a role no higher than your own (owner only by owners) and an optional membership expiry. The token travels by mail; it works once, for 7 days.',
  tags: ['orgs'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  body: z.strictObject({ email: emailField, role: roleField, expiresAt: timestampField.optional() }),
  responses: {
    201: { description: 'Invited; the mail is queued', schema: invitationView },
    409: { description: 'Already a member' },
  },
  handler: async (ctx, deps: Core) => {
    const actor = memberActor(ctx);
    const { email, role, expiresAt } = ctx.body;
    const result = await deps.orgs.invitations.invite(
      actor.orgId,
      actor,
      { email, role, expiresAt: expiresAt ? new Date(expiresAt) : null },
      ctx.now,
    );
    if (!result.ok) return result;
    const i = result.invitation;
    return json(201, {
      id: i.id,
      email: i.email,
      role: i.role,
      expiresAt: i.membershipExpiresAt?.toISOString() ?? null,
      invitationExpiresAt: i.invitationExpiresAt.toISOString(),
    });
  },
});
