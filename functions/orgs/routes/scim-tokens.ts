import { z } from 'zod';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';

export const scimTokenView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});

export const issuedScimTokenView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  token: z.string(),
  createdAt: z.string(),
});

export const createScimToken = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/scim-tokens',
  summary:
    "Create a SCIM token for the org's identity provider (Okta, Entra ID), shown once in this answer; stored hashed. Owner in step-up; sessions only.",
  tags: ['scim'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  body: z.strictObject({ name: z.string().trim().min(1).max(100) }),
  responses: {
    201: { description: 'Created; `token` is never shown again', schema: issuedScimTokenView },
  },
  handler: async ({ body, principal, org, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const issued = await deps.scimTokens.issue(
      requireOrg(org).orgId,
      body.name,
      { userId: user.id, ip },
      now,
    );
    return json(201, {
      id: issued.id,
      name: issued.name,
      prefix: issued.prefix,
      token: issued.token,
      createdAt: issued.createdAt.toISOString(),
    });
  },
});

export const listScimTokens = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/scim-tokens',
  summary: "The org's live SCIM tokens (never their secrets), oldest first. Admin or owner.",
  tags: ['scim'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: { 200: { description: 'The tokens', schema: z.object({ tokens: z.array(scimTokenView) }) } },
  handler: async ({ org }, deps: Core) => {
    const rows = await deps.scimTokens.list(requireOrg(org).orgId);
    return json(200, {
      tokens: rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.display_prefix,
        createdAt: r.created_at.toISOString(),
        lastUsedAt: r.last_used_at?.toISOString() ?? null,
      })),
    });
  },
});

export const revokeScimToken = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/scim-tokens/:id',
  summary:
    "Revoke a SCIM token; it fails on the very next request. Another org's, an unknown or an already revoked token answers 404. Owner in step-up.",
  tags: ['scim'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token in this org' } },
  handler: async ({ params, principal, org, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.scimTokens.revoke(
      requireOrg(org).orgId,
      params.id ?? '',
      { userId: user.id, ip },
      now,
    );
    return result.ok ? json(204) : result;
  },
});
