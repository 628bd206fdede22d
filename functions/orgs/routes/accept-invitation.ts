import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { tokenField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';
import { roleField } from '../views.js';

export const acceptInvitation = defineRoute({
  method: 'POST',
  path: '/api/orgs/invitations/accept',
  summary:
    "Join an org with the token from an invitation mail. The caller's verified email must be the invited one; otherwise, and for used or expired tokens, 404.",
  tags: ['orgs'],
  auth: { kind: 'session' },
  body: z.strictObject({ token: tokenField }),
  responses: {
    200: { description: 'Joined', schema: z.object({ orgId: z.string(), role: roleField }) },
    404: { description: 'No such invitation for this user' },
  },
  handler: async ({ body, principal, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.orgs.invitations.accept(body.token, { id: user.id, ip }, now);
    return result.ok ? json(200, { orgId: result.orgId, role: result.role }) : result;
  },
});
