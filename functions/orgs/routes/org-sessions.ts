import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { sessionView, toSessionView } from '../../../shared/http/views.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { memberActor } from '../actor.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

const orgSessionView = sessionView.extend({
  userId: z.string(),
  orgId: z.string().nullable(),
  active: z.boolean(),
});

export const listOrgSessions = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/sessions',
  summary:
    "The org's sessions: members' sessions bound to it (SSO) and those that have acted in it, never a member's other sessions. lastSeenAt is the last activity in this org; active is false once the session ended or lost its reach into the org. Newest first; pass nextCursor back as cursor for the next page.",
  tags: ['orgs'],
  auth: requireOrgRole('admin'),
  query: z.strictObject({
    userId: z.uuid().optional(),
    deviceId: z.uuid().optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code')
      .transform((c) => c.toUpperCase())
      .optional(),
    active: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  }),
  responses: {
    200: {
      description: 'One page of sessions',
      schema: z.object({ sessions: z.array(orgSessionView), nextCursor: z.string().nullable() }),
    },
  },
  handler: async ({ org, query, now }, deps: Core) => {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (after === null) {
      return fail('VALIDATION_FAILED', 'The request is not valid.', {
        issues: [{ path: 'cursor', message: 'not a cursor this API returned' }],
      });
    }
    const rows = await deps.orgs.sessionAdmin.list(
      requireOrg(org).orgId,
      {
        ...(query.userId ? { userId: query.userId } : {}),
        ...(query.deviceId ? { deviceId: query.deviceId } : {}),
        ...(query.country ? { country: query.country } : {}),
        ...(query.active !== undefined ? { active: query.active } : {}),
        ...(after ? { after } : {}),
        limit: query.limit + 1,
      },
      now,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return json(200, {
      sessions: page.map((row) => ({
        ...toSessionView(row),
        userId: row.user_id,
        orgId: row.org_id,
        active: row.active,
      })),
      nextCursor:
        rows.length > query.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    });
  },
});

export const revokeOrgSession = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/sessions/:id',
  summary:
    "End a session's reach into the org (one the org's session list shows): a session bound to the org is revoked; a personal one loses this org and keeps working for the member's own account. Another org's session answers 404.",
  tags: ['orgs'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: { 204: { description: 'Ended (or already ended)' } },
  handler: async (ctx, deps: Core) => {
    if (!isId(ctx.params.id)) return fail('NOT_FOUND', 'No such session.');
    const actor = memberActor(ctx);
    const found = await deps.orgs.sessionAdmin.revoke(
      actor.orgId,
      { type: 'user', id: actor.userId, ip: actor.ip },
      ctx.params.id,
      ctx.now,
    );
    return found ? json(204) : fail('NOT_FOUND', 'No such session.');
  },
});
