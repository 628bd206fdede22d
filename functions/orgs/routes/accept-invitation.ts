import { z } from 'zod';
import { sessionCookie } from '../../../shared/http/cookies.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { tokenField } from '../../../shared/http/schemas.js';
import { sessionView, toSessionView } from '../../../shared/http/views.js';
import type { Core } from '../../../shared/runtime/core.js';
import { roleField } from '../views.js';

export const acceptInvitation = defineRoute({
  method: 'POST',
  path: '/api/orgs/invitations/accept',
  summary:
    "Join an org with the token from an invitation mail. The caller's verified email must be the invited one; otherwise, and for used or expired tokens, 404. Joining is a privilege change: the session is replaced by a fresh one (new token in the body and cookie; the old token stops working).",
  tags: ['orgs'],
  auth: { kind: 'session' },
  body: z.strictObject({ token: tokenField }),
  responses: {
    200: {
      description: 'Joined; use the new token from now on',
      schema: z.object({ orgId: z.string(), role: roleField, token: z.string(), session: sessionView }),
    },
    404: { description: 'No such invitation for this user' },
  },
  handler: async ({ body, principal, ip, userAgent, now }, deps: Core) => {
    const { session } = requireSession(principal);
    const result = await deps.orgs.invitations.accept(body.token, { session, ip, userAgent }, now);
    if (!result.ok) return result;
    return json(
      200,
      { orgId: result.orgId, role: result.role, token: result.token, session: toSessionView(result.session) },
      { 'set-cookie': sessionCookie(result.token, result.session.expires_at, now) },
    );
  },
});
