import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { orgNameField, orgView, slugField } from '../views.js';

export const createOrg = defineRoute({
  method: 'POST',
  path: '/api/orgs',
  summary: 'Create an org with a unique slug; the caller becomes its owner.',
  tags: ['orgs'],
  auth: { kind: 'session' },
  body: z.strictObject({ name: orgNameField, slug: slugField }),
  responses: {
    201: { description: 'Created', schema: orgView },
    409: { description: 'The slug is taken' },
  },
  handler: async ({ body, principal, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.orgs.directory.create(body, { userId: user.id, ip }, now);
    return result.ok ? json(201, result.org) : result;
  },
});
