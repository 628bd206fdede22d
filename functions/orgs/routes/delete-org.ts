import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberActor } from '../actor.js';

export const deleteOrg = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId',
  summary:
    "Delete the org (owners, inside the step-up window, typing the org's slug back). At once: sessions bound to the org are revoked, every member's other sessions lose it, its API keys and pending invitations stop, and the org is 404 for everyone. `POST /api/orgs/:orgId/restore` undoes it until `purgeAfter` (ORG_DELETION_GRACE_DAYS); after that the maintenance sweep purges its data and closes its audit chain with `org.deleted`.",
  tags: ['orgs'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  body: z.strictObject({ confirmSlug: z.string().min(1).max(100) }),
  responses: {
    202: {
      description: 'Deleted; restorable until purgeAfter',
      schema: z.object({ orgId: z.string(), purgeAfter: z.iso.datetime() }),
    },
    403: { description: 'Not an owner (INSUFFICIENT_ROLE) or outside step-up (STEP_UP_REQUIRED)' },
    400: { description: 'confirmSlug is not the org slug (VALIDATION_FAILED)' },
  },
  handler: async (ctx, deps: Core) => {
    const actor = memberActor(ctx);
    const result = await deps.orgs.deletion.delete(actor.orgId, actor, ctx.body.confirmSlug, ctx.now);
    return result.ok
      ? json(202, { orgId: actor.orgId, purgeAfter: result.purgeAfter.toISOString() })
      : result;
  },
});

export const restoreOrg = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/restore',
  summary:
    'Restore a deleted org before its purge (owners of the deleted org only; anyone else gets 404). Members, recordings, policies and the audit chain come back; revoked sessions, API keys and invitations stay revoked.',
  tags: ['orgs'],
  auth: { kind: 'session' },
  responses: {
    200: {
      description: 'Restored',
      schema: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    },
    404: { description: 'No such deleted org among those you own' },
    409: { description: 'Not deleted, or the grace period is over' },
  },
  handler: async ({ params, principal, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    // A session started for another org (SSO) acts in that org only.
    if (!isId(params.orgId) || (session.org_id !== null && session.org_id !== params.orgId)) {
      return fail('NOT_FOUND');
    }
    const result = await deps.orgs.deletion.restore(params.orgId, { userId: user.id, ip }, now);
    return result.ok ? json(200, result.org) : result;
  },
});
