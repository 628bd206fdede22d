import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json, type RouteContext } from '../../../shared/http/route.js';
import { isDomain } from '../../../shared/sso/model.js';
import type { SsoSettingsView } from '../../../shared/sso/service.js';
import type { LoginUnitDeps } from '../deps.js';

const ssoRole = z.enum(['viewer', 'member', 'admin']);

export const settingsView = z.object({
  issuerUrl: z.string(),
  clientId: z.string(),
  allowedDomains: z.array(z.string()),
  defaultRole: ssoRole,
  passwordLoginAllowed: z.boolean(),
  redirectUri: z.string(),
  protocol: z.enum(['oidc', 'saml']),
  saml: z
    .object({
      entityId: z.string(),
      acsUrl: z.string(),
      metadataUrl: z.string(),
      idpEntityId: z.string(),
      idpSsoUrl: z.string(),
    })
    .nullable(),
  updatedAt: z.string(),
});

const allowedDomains = z
  .array(
    z
      .string()
      .max(253)
      .transform((d) => d.trim().toLowerCase())
      .refine(isDomain, 'must be a domain name like example.com'),
  )
  .min(1)
  .max(50);

const oidcSettings = z.strictObject({
  protocol: z.literal('oidc').optional(),
  issuerUrl: z.url({ protocol: /^https?$/ }).max(512),
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(1024).optional(),
  allowedDomains,
  defaultRole: ssoRole,
  passwordLoginAllowed: z.boolean(),
});

const samlSettings = z.strictObject({
  protocol: z.literal('saml'),
  /** The IdP's metadata document, uploaded (never fetched). */
  idpMetadataXml: z
    .string()
    .min(1)
    .max(256 * 1024),
  allowedDomains,
  defaultRole: ssoRole,
  passwordLoginAllowed: z.boolean(),
});

function toView(settings: SsoSettingsView): z.infer<typeof settingsView> {
  return { ...settings, updatedAt: settings.updatedAt.toISOString() };
}

function actorOf(ctx: Pick<RouteContext<unknown, unknown>, 'principal' | 'org' | 'ip'>) {
  const { user, session } = requireSession(ctx.principal);
  return { orgId: requireOrg(ctx.org).orgId, userId: user.id, ip: ctx.ip, boundOrgId: session.org_id };
}

export const getSsoSettings = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/sso',
  summary:
    "The org's single sign-on settings (owner only; never the client secret); 404 when SSO is not set up.",
  tags: ['sso'],
  auth: requireOrgRole('owner', { apiKeys: false }),
  responses: { 200: { description: 'SSO settings', schema: settingsView } },
  handler: async ({ org }, deps: LoginUnitDeps) => {
    const settings = await deps.sso.view(requireOrg(org).orgId);
    return settings
      ? json(200, toView(settings))
      : fail('NOT_FOUND', 'This organization has no single sign-on.');
  },
});

export const putSsoSettings = defineRoute({
  method: 'PUT',
  path: '/api/orgs/:orgId/sso',
  summary:
    "Set the org's identity provider (owner only, step-up): OIDC, or SAML with `{protocol: \"saml\", idpMetadataXml}` (the IdP's metadata: entity ID, HTTP-Redirect SSO URL, signing certificates; the answer's `saml` gives our entity ID, ACS and metadata URL to register there). OIDC: the issuer must answer discovery; the client secret is sealed and never shown again (omit it to keep the stored one). Register `redirectUri` at the provider. A new issuer drops every identity linked at the previous one (same transaction). `passwordLoginAllowed: false` makes the org SSO-only: its routes then admit only sessions its SSO started (403 SSO_REQUIRED otherwise), so it can be set only from such a session.",
  tags: ['sso'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  body: z.union([oidcSettings, samlSettings]),
  responses: {
    200: { description: 'The settings as saved', schema: settingsView },
    409: {
      description:
        "CONFLICT: `passwordLoginAllowed: false` (SSO-only) from a session not started through this org's SSO",
    },
  },
  handler: async (ctx, deps: LoginUnitDeps) => {
    const actor = actorOf(ctx);
    const { body } = ctx;
    const result =
      body.protocol === 'saml'
        ? await deps.saml.configure(actor.orgId, actor, body, ctx.now)
        : await deps.sso.configure(actor.orgId, actor, body, ctx.now);
    return result.ok ? json(200, toView(result.settings)) : result;
  },
});

export const deleteSsoSettings = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/sso',
  summary:
    'Turn single sign-on off for the org (owner only, step-up). Members keep their accounts. Refused (409) while the policy requires SSO (`enforceSso`).',
  tags: ['sso'],
  auth: requireOrgRole('owner', { stepUp: true, apiKeys: false }),
  responses: {
    204: { description: 'SSO is off' },
    409: {
      description:
        'CONFLICT: the policy still requires SSO (enforceSso): accounts at its verified domains could not sign in at all',
    },
  },
  handler: async (ctx, deps: LoginUnitDeps) => {
    const actor = actorOf(ctx);
    const removed = await deps.sso.remove(actor.orgId, actor, ctx.now);
    if (removed === 'required') {
      // Turning it off comes after no longer requiring it (checked under the org's row lock).
      return fail(
        'CONFLICT',
        'Single sign-on is required for accounts at your verified domains; stop requiring it before turning it off.',
      );
    }
    return removed === 'removed' ? json(204) : fail('NOT_FOUND', 'This organization has no single sign-on.');
  },
});
