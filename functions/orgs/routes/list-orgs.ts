import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { orgView, roleField } from '../views.js';

export const listOrgs = defineRoute({
  method: 'GET',
  path: '/api/orgs',
  summary: "The caller's orgs (memberships still in force) with the caller's role in each.",
  tags: ['orgs'],
  auth: { kind: 'session' },
  responses: {
    200: {
      description: 'Orgs',
      schema: z.object({
        orgs: z.array(orgView.extend({ role: roleField, expiresAt: z.string().nullable() })),
      }),
    },
  },
  handler: async ({ principal, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const orgs = await deps.orgs.directory.orgsOf(user.id, now);
    return json(200, {
      orgs: orgs.map((o) => ({ ...o, expiresAt: o.expiresAt?.toISOString() ?? null })),
    });
  },
});
