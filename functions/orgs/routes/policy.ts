import { z } from 'zod';
import type { Tx } from '../../../shared/bus/outbox.js';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import {
  effectiveIdleMinutes,
  MAX_ABSOLUTE_TIMEOUT_HOURS,
  MAX_CONCURRENT_SESSIONS,
  MAX_IDLE_TIMEOUT_MINUTES,
  type OrgPolicy,
  sessionLimitActions,
} from '../../../shared/orgs/model.js';
import { aaguidListSchema } from '../../../shared/passkeys/model.js';
import type { Core } from '../../../shared/runtime/core.js';
import { inSudo } from '../../../shared/sessions/model.js';
import { SsoStore } from '../../../shared/sso/store.js';
import { memberActor } from '../actor.js';

export const policyView = z.object({
  maxConcurrentSessions: z.number().int().nullable(),
  idleTimeoutMinutes: z.number().int().nullable(),
  absoluteTimeoutHours: z.number().int().nullable(),
  requireMfa: z.boolean(),
  enterprise: z.boolean(),
  onLimit: z.enum(sessionLimitActions),
  enforceSso: z.boolean(),
  allowBreakGlass: z.boolean(),
  requirePasskey: z.boolean(),
  allowedAaguids: z.array(z.string()).nullable(),
  /** What the gate applies: idleTimeoutMinutes, else 1440 for enterprise orgs, else 30. */
  effectiveIdleTimeoutMinutes: z.number().int(),
});

function toPolicyView(policy: OrgPolicy): z.infer<typeof policyView> {
  return { ...policy, effectiveIdleTimeoutMinutes: effectiveIdleMinutes(policy) };
}

export const getPolicy = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/policy',
  summary: "The org's session security policy.",
  tags: ['orgs'],
  auth: requireOrgRole('viewer'),
  responses: { 200: { description: 'Policy', schema: policyView } },
  handler: async ({ org }, deps: Core) => {
    const policy = await deps.orgs.directory.policy(requireOrg(org).orgId);
    return policy ? json(200, toPolicyView(policy)) : fail('NOT_FOUND');
  },
});

const count = (max: number) => z.number().int().min(1).max(max).nullable().optional();

export const updatePolicy = defineRoute({
  method: 'PATCH',
  path: '/api/orgs/:orgId/policy',
  summary:
    "Change the session policy (null clears a limit). absoluteTimeoutHours is at most 336 (14 days); with requireMfa, org routes refuse members without MFA (403 INSUFFICIENT_ROLE, requirement mfa). `enforceSso` and `allowBreakGlass` (owner only, step-up; enforceSso needs the org's SSO set up): password and Google/GitHub sign-in of accounts at the org's verified domains answer 403 SSO_REQUIRED with `ssoUrl`, except owners' password sign-in when allowBreakGlass (audited as sso.fallback). With requirePasskey, the org's step-up routes accept only a sudo window opened with a passkey (403 STEP_UP_REQUIRED with methods [\"passkey\"]), and allowedAaguids (null: any) limits that to passkeys of the listed authenticator models.",
  tags: ['orgs'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  body: z
    .strictObject({
      maxConcurrentSessions: count(MAX_CONCURRENT_SESSIONS),
      idleTimeoutMinutes: count(MAX_IDLE_TIMEOUT_MINUTES),
      absoluteTimeoutHours: count(MAX_ABSOLUTE_TIMEOUT_HOURS),
      requireMfa: z.boolean().optional(),
      enterprise: z.boolean().optional(),
      onLimit: z.enum(sessionLimitActions).optional(),
      enforceSso: z.boolean().optional(),
      allowBreakGlass: z.boolean().optional(),
      requirePasskey: z.boolean().optional(),
      allowedAaguids: aaguidListSchema.min(1).nullable().optional(),
    })
    .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field' }),
  responses: {
    200: { description: 'The policy after the change', schema: policyView },
    403: {
      description:
        'INSUFFICIENT_ROLE: enforceSso/allowBreakGlass by a non-owner; STEP_UP_REQUIRED: an owner changing them outside the sudo window',
    },
    409: { description: 'CONFLICT: enforceSso without single sign-on set up' },
  },
  handler: async (ctx, deps: Core) => {
    const actor = memberActor(ctx);
    if (ctx.body.enforceSso !== undefined || ctx.body.allowBreakGlass !== undefined) {
      // Who may sign in to accounts at the org's domains is the owner's call, like SSO settings.
      if (actor.role !== 'owner') return fail('INSUFFICIENT_ROLE', 'Only an owner changes SSO enforcement.');
      if (!inSudo(requireSession(ctx.principal).session.sudo_until, ctx.now)) {
        return fail('STEP_UP_REQUIRED', 'Confirm your identity again (step-up) to continue.');
      }
    }
    const patch = Object.fromEntries(Object.entries(ctx.body).filter(([, v]) => v !== undefined));
    const ssoStore = new SsoStore(deps.platform.db);
    // Read under the org's row lock, which turning SSO off takes too: the two cannot cross.
    const ssoSetUp = async (tx: Tx) =>
      ctx.body.enforceSso && !(await ssoStore.byOrgId(actor.orgId, tx))
        ? fail('CONFLICT', 'Set up single sign-on before enforcing it.')
        : null;
    const result = await deps.orgs.policy.update(actor.orgId, actor, patch, ctx.now, ssoSetUp);
    return result.ok ? json(200, toPolicyView(result.policy)) : result;
  },
});
