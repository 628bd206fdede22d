import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json, type RouteContext } from '../../../shared/http/route.js';
import type { OrgDomain } from '../../../shared/sso/domain-store.js';
import { type DomainView, domainView } from '../../../shared/sso/domains.js';
import { isDomain } from '../../../shared/sso/model.js';
import type { LoginUnitDeps } from '../deps.js';

const domainSchema = z
  .string()
  .max(253)
  .transform((d) => d.trim().toLowerCase().replace(/\.$/, ''))
  .refine(isDomain, 'must be a domain name like example.com');

export const domainJson = z.object({
  domain: z.string(),
  txtName: z.string(),
  txtRecord: z.string(),
  verified: z.boolean(),
  verifiedAt: z.string().nullable(),
  createdAt: z.string(),
});

function toJson(d: OrgDomain): z.infer<typeof domainJson> {
  const v: DomainView = domainView(d);
  return { ...v, verifiedAt: v.verifiedAt?.toISOString() ?? null, createdAt: v.createdAt.toISOString() };
}

function actorOf(ctx: Pick<RouteContext<unknown, unknown>, 'principal' | 'org' | 'ip'>) {
  const { user } = requireSession(ctx.principal);
  return { orgId: requireOrg(ctx.org).orgId, userId: user.id, ip: ctx.ip };
}

/** The `:domain` path parameter, or null when it is no domain name (answered 404 like an unknown one). */
function pathDomain(params: Record<string, string>): string | null {
  const parsed = domainSchema.safeParse(params.domain ?? '');
  return parsed.success ? parsed.data : null;
}

export const addDomain = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/domains',
  summary:
    'Claim an email domain for the org (owner, step-up): answers the TXT record to publish at `txtName`, then call …/verify. The first org to verify a domain holds it; claiming a domain another org verified answers 409.',
  tags: ['sso'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  body: z.strictObject({ domain: domainSchema }),
  responses: {
    201: { description: 'Claimed, not yet verified', schema: domainJson },
    409: { description: 'CONFLICT: another org verified this domain, or this org already added it' },
  },
  handler: async (ctx, deps: LoginUnitDeps) => {
    const actor = actorOf(ctx);
    const result = await deps.domains.claim(actor.orgId, ctx.body.domain, actor, ctx.now);
    return result.ok ? json(201, toJson(result.domain)) : result;
  },
});

export const listDomains = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/domains',
  summary: "The org's claimed domains, their TXT records and whether they are verified (owner).",
  tags: ['sso'],
  auth: requireOrgRole('owner', { apiKeys: false }),
  responses: { 200: { description: 'Domains', schema: z.object({ domains: z.array(domainJson) }) } },
  handler: async ({ org }, deps: LoginUnitDeps) => {
    const domains = await deps.domains.list(requireOrg(org).orgId);
    return json(200, { domains: domains.map(toJson) });
  },
});

export const verifyDomain = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/domains/:domain/verify',
  summary:
    "Look up the domain's TXT record (at `txtName`) and mark the domain verified when it carries this org's value (owner). Idempotent once verified.",
  tags: ['sso'],
  auth: requireOrgRole('owner', { apiKeys: false }),
  enqueues: false,
  responses: {
    200: { description: 'Verified', schema: domainJson },
    400: { description: 'VALIDATION_FAILED: no TXT record with the expected value (yet)' },
    404: { description: 'NOT_FOUND: the org has not added this domain' },
    409: { description: 'CONFLICT: another org verified this domain first' },
  },
  handler: async (ctx, deps: LoginUnitDeps) => {
    const actor = actorOf(ctx);
    const domain = pathDomain(ctx.params);
    if (!domain) return fail('NOT_FOUND', 'This organization has not added this domain.');
    const result = await deps.domains.verify(actor.orgId, domain, actor, ctx.now);
    return result.ok ? json(200, toJson(result.domain)) : result;
  },
});

export const removeDomain = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/domains/:domain',
  summary:
    "Let go of a domain (owner, step-up): its accounts are no longer the org's to sign in or to hold to SSO, and another org may verify it.",
  tags: ['sso'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  responses: { 204: { description: 'Removed' }, 404: { description: 'NOT_FOUND: not added' } },
  handler: async (ctx, deps: LoginUnitDeps) => {
    const actor = actorOf(ctx);
    const domain = pathDomain(ctx.params);
    const removed = domain ? await deps.domains.remove(actor.orgId, domain, actor, ctx.now) : false;
    return removed ? json(204) : fail('NOT_FOUND', 'This organization has not added this domain.');
  },
});
