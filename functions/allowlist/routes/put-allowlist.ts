import { z } from 'zod';
import { entrySchema, MAX_ENTRIES } from '../../../shared/allowlist/entries.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { allowlistView } from '../views.js';

export const putAllowlist = defineRoute({
  method: 'PUT',
  path: '/api/orgs/:orgId/allowlist',
  summary:
    "Replace the org's IP allowlist. Entries are IPv4/IPv6 addresses or CIDRs; each invalid one is reported by index (entries.<i>.cidr). Host bits are cleared and such rewrites reported in `normalized`. Enabling a list that does not contain the caller's own address is refused (409 CONFLICT).",
  tags: ['allowlist'],
  auth: requireOrgRole('admin', { stepUp: true }),
  body: z.strictObject({ enabled: z.boolean(), entries: z.array(entrySchema).max(MAX_ENTRIES) }),
  bodyLimitBytes: 2 * 1024 * 1024,
  responses: {
    200: {
      description: 'Saved and in force on this instance at once, on others within 60 s',
      schema: allowlistView.extend({
        normalized: z.array(
          z.object({
            index: z.number(),
            from: z.string(),
            to: z.string(),
            reason: z.enum(['host_bits_cleared', 'rewritten']),
          }),
        ),
      }),
    },
  },
  handler: async ({ org, principal, body, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.allowlists.service.update(requireOrg(org).orgId, body, {
      type: 'user',
      id: user.id,
      ip,
      now,
    });
    if (!result.ok) return result;
    return json(200, {
      enabled: result.list.enabled,
      entries: result.list.entries,
      normalized: result.normalized,
    });
  },
});
