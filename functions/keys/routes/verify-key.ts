import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { keyRoleField } from '../views.js';

export const verifyKey = defineRoute({
  method: 'POST',
  path: '/api/keys/verify',
  summary:
    'For other services: whether a key is valid now, and its org and role. Malformed, unknown, revoked and expired keys all answer {"valid": false}; malformed ones without a database call.',
  tags: ['keys'],
  auth: { kind: 'none' },
  // Writes at most last_used_at, never the outbox: skipping the drain is most of this route's cost.
  enqueues: false,
  body: z.strictObject({ key: z.string() }),
  responses: {
    200: {
      description: 'The verdict',
      schema: z.union([
        z.object({ valid: z.literal(true), orgId: z.string(), keyId: z.string(), role: keyRoleField }),
        z.object({ valid: z.literal(false) }),
      ]),
    },
  },
  handler: async ({ body, now }, deps: Core) => {
    const key = await deps.apiKeys.verify(body.key, now);
    return json(
      200,
      key ? { valid: true, orgId: key.orgId, keyId: key.id, role: key.role } : { valid: false },
    );
  },
});
