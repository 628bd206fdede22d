import { z } from 'zod';
import { parseAddress } from '../../../shared/allowlist/address.js';
import { fail } from '../../../shared/errors/codes.js';
import { roleAtLeast } from '../../../shared/http/auth.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { decisionView, ipField } from '../views.js';
import { invalidIp } from './check-in-org.js';

/**
 * The API.md path, with the org in the body. The router takes an org only from the path, so this
 * route asks for a session and applies the org route's checks itself, in the same order:
 * membership (404 for a non-member), the caller's own network, then the role. API keys use
 * `/api/orgs/:orgId/allowlist/check`.
 */
export const check = defineRoute({
  method: 'POST',
  path: '/api/allowlist/check',
  summary:
    "Whether an org's enforced list admits an address (a session of a member+ of that org; API keys use /api/orgs/{orgId}/allowlist/check).",
  tags: ['allowlist'],
  auth: { kind: 'session', boundSessions: true },
  body: z.strictObject({ orgId: z.string().min(1).max(64), ip: ipField }),
  responses: { 200: { description: 'The decision', schema: decisionView } },
  handler: async ({ principal, body, ip, now }, deps: Core) => {
    const member = await deps.orgs.gate.authorizeSession(requireSession(principal), body.orgId, { ip, now });
    if (!member.ok) return member;
    const blocked = await deps.allowlists.gate.check(body.orgId, ip);
    if (blocked) return blocked;
    if (!roleAtLeast(member.access.role, 'member')) {
      return fail('INSUFFICIENT_ROLE', 'This needs the member role or higher.');
    }
    if (!parseAddress(body.ip)) return invalidIp();
    return json(200, await deps.allowlists.service.decide(body.orgId, body.ip));
  },
});
