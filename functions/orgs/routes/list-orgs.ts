import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { orgView, roleField } from '../views.js';

export const listOrgs = defineRoute({
  method: 'GET',
  path: '/api/orgs',
  summary:
    "The caller's orgs (memberships still in force) with the caller's role in each; a session started through an org's SSO sees that org only.",
  tags: ['orgs'],
  auth: { kind: 'session', boundSessions: true },
  responses: {
    200: {
      description: 'Orgs',
      schema: z.object({
        orgs: z.array(orgView.extend({ role: roleField, expiresAt: z.string().nullable() })),
      }),
    },
  },
  handler: async ({ principal, now }, deps: Core) => {
    const { user, session } = requireSession(principal);
    const all = await deps.orgs.directory.orgsOf(user.id, now);
    // A session bound to one org (SSO) acts in that org only, so it lists that org only.
    const orgs = session.org_id === null ? all : all.filter((o) => o.id === session.org_id);
    return json(200, {
      orgs: orgs.map((o) => ({ ...o, expiresAt: o.expiresAt?.toISOString() ?? null })),
    });
  },
});
