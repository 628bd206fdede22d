import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { isId } from '../../../shared/orgs/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { securityEventView } from '../../../shared/signals/security-events.js';

export const listSecurityEvents = defineRoute({
  method: 'GET',
  path: '/api/accounts/security-events',
  summary:
    "The account's security events, newest first: new devices, country changes, impossible travel, denied sign-ins, MFA changes, password changes and resets, revoked sessions.",
  tags: ['accounts'],
  auth: { kind: 'session' },
  query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(100) }),
  responses: {
    200: { description: 'The events', schema: z.object({ events: z.array(securityEventView) }) },
  },
  handler: async ({ principal, query }, deps: Core) => {
    const { user } = requireSession(principal);
    return json(200, { events: await deps.securityEvents.list(user.id, query.limit) });
  },
});

export const acknowledgeSecurityEvent = defineRoute({
  method: 'POST',
  path: '/api/accounts/security-events/:id/acknowledge',
  summary: 'Mark one of your security events as seen (idempotent).',
  tags: ['accounts'],
  auth: { kind: 'session' },
  responses: {
    204: { description: 'Acknowledged' },
    404: { description: 'NOT_FOUND: not one of your security events' },
  },
  enqueues: false,
  handler: async ({ principal, params, now }, deps: Core) => {
    const { user } = requireSession(principal);
    if (!isId(params.id) || !(await deps.securityEvents.acknowledge(user.id, params.id, now))) {
      return fail('NOT_FOUND');
    }
    return json(204);
  },
});
