import { z } from 'zod';
import { parseAddress } from '../../../shared/allowlist/address.js';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { decisionView, ipField } from '../views.js';

/** Members and the org's API keys may ask (the answer names the matching entry, so not viewers). */
export const checkInOrg = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/allowlist/check',
  summary:
    "Whether the org's enforced list admits an address, and the most specific entry that matched (member+, API keys of the org too).",
  tags: ['allowlist'],
  auth: requireOrgRole('member'),
  body: z.strictObject({ ip: ipField }),
  responses: { 200: { description: 'The decision', schema: decisionView } },
  handler: async ({ org, body }, deps: Core) => {
    if (!parseAddress(body.ip)) return invalidIp();
    return json(200, await deps.allowlists.service.decide(requireOrg(org).orgId, body.ip));
  },
});

export function invalidIp() {
  return fail('VALIDATION_FAILED', 'The request is not valid.', {
    issues: [{ path: 'ip', message: 'must be an IPv4 or IPv6 address (no zone id, no leading zeros)' }],
  });
}
