import { z } from 'zod';
import { steppedUpFor, stepUpRequired, sudoOf } from '../../../shared/http/auth.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { issuedKeyView, keyNameField, keyRoleField, toIssuedKeyView } from '../views.js';

export const createKey = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/keys',
  summary:
    'Issue an org API key, shown once in this answer. Never above your own role; an owner key needs step-up. Sessions only: a leaked key must not mint replacements that outlive its revocation.',
  tags: ['keys'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  body: z.strictObject({
    name: keyNameField,
    role: keyRoleField,
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  }),
  responses: {
    201: { description: 'Issued; `key` is never shown again', schema: issuedKeyView },
    403: { description: 'A role above your own (INSUFFICIENT_ROLE) or an owner key without step-up' },
  },
  handler: async ({ body, principal, org, ip, now }, deps: Core) => {
    const { session, user } = requireSession(principal);
    const access = requireOrg(org);
    const result = await deps.apiKeys.issue(
      access.orgId,
      { name: body.name, role: body.role, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null },
      { userId: user.id, role: access.role, inStepUp: steppedUpFor(sudoOf(session), access, now), ip },
      now,
    );
    if (result.ok) return json(201, toIssuedKeyView(result.issued));
    return result.code === 'STEP_UP_REQUIRED' ? stepUpRequired(access.passkeyPolicy, result.message) : result;
  },
});
