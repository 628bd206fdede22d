import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const deleteAccount = defineRoute({
  method: 'DELETE',
  path: '/api/accounts/me',
  summary:
    "Delete your own account (inside the step-up window). Refused with 409 CONFLICT and `orgs: [{id, slug}]` while you are the last permanent owner of an org. Otherwise, at once: you leave every org, every session ends, your password, MFA, devices and pending tokens are deleted, and your email and name are erased; only the account's id stays, so audit rows naming it remain meaningful. The same address can sign up again as a new account.",
  tags: ['accounts'],
  auth: { kind: 'session', stepUp: true },
  responses: {
    202: {
      description: 'Deleted',
      schema: z.object({ deleted: z.literal(true), sessionsRevoked: z.number() }),
    },
    403: { description: 'Outside the step-up window (STEP_UP_REQUIRED)' },
    409: { description: 'The last owner of the orgs listed in `orgs` (CONFLICT)' },
  },
  handler: async ({ principal, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.accountDeletion.delete(user.id, { ip, now });
    return result.ok ? json(202, { deleted: true, sessionsRevoked: result.sessionsRevoked }) : result;
  },
});
