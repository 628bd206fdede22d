import { z } from 'zod';
import { type Failure, fail } from '../../../shared/errors/codes.js';
import { requireOrg, requireOrgRole } from '../../../shared/http/org-guard.js';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { storeFailed } from '../../../shared/ratelimit/login-throttle.js';
import type { WindowRule } from '../../../shared/ratelimit/window.js';
import type { Core } from '../../../shared/runtime/core.js';
import { MINUTE_MS } from '../../../shared/time/clock.js';
import { eventsField, headersField, urlField, webhookFormats } from '../../../shared/webhooks/model.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

const endpointView = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  events: z.array(z.string()),
  format: z.enum(webhookFormats),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  headerNames: z.array(z.string()),
  previousSecretValidUntil: z.string().nullable(),
  failingSince: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const withSecret = endpointView.extend({
  secret: z.string().describe('`whsec_…`: shown in this answer only. Verify deliveries with it.'),
});

const attemptView = z.object({
  attempt: z.number(),
  outcome: z.enum(['delivered', 'retrying', 'failed']),
  responseStatus: z.number().nullable(),
  durationMs: z.number(),
  error: z.string().nullable(),
  attemptedAt: z.string(),
});

const deliveryView = z.object({
  id: z.string().describe('The `webhook-id` header of every attempt'),
  eventId: z.string(),
  type: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempt: z.number(),
  responseStatus: z.number().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  payloadPreview: z.string(),
  attempts: z.array(attemptView),
});

const description = z.string().trim().max(500);
const format = z.enum(webhookFormats);

/**
 * "Send now" (test and retry) per org: each is an outbound request at once, and a failing one up to
 * seven more, so an admin's script cannot make us a request generator or grow the log without bound.
 */
export const manualSendsPerOrg: WindowRule = { windowMs: 15 * MINUTE_MS, limit: 100 };

async function manualSendLimited(deps: Core, orgId: string, now: Date): Promise<Failure | null> {
  try {
    const decision = await deps.rateLimits.hit(`webhook-send:org:${orgId}`, now, manualSendsPerOrg);
    if (decision.allowed) return null;
    return fail('RATE_LIMITED', 'Too many test and retry sends for this organization.', {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  } catch (error) {
    storeFailed(deps.platform.logger, deps.platform.metrics, error, 'webhook test and retry', now);
    return null;
  }
}

function actorOf(ctx: { principal: Parameters<typeof requireSession>[0]; ip: string | null }) {
  return { userId: requireSession(ctx.principal).user.id, ip: ctx.ip };
}

export const createWebhook = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/webhooks',
  summary:
    "Add a webhook endpoint (admin, step-up). Events of the org's audit chain, and the sign-in and session events that belong to the org, are sent signed per Standard Webhooks. `secret` is shown in this answer only; `headers` (a provider's token) are stored sealed and never shown again. The URL must be https and must not resolve to a private, loopback, link-local or metadata address (unless WEBHOOK_ALLOW_PRIVATE).",
  tags: ['webhooks'],
  auth: requireOrgRole('admin', { stepUp: true, apiKeys: false }),
  body: z.strictObject({
    url: urlField,
    events: eventsField,
    format: format.default('standard'),
    description: description.optional(),
    headers: headersField.optional(),
  }),
  responses: {
    201: { description: 'Added; `secret` is never shown again', schema: withSecret },
    409: { description: 'The org already has 20 endpoints' },
  },
  handler: async (ctx, deps: Core) => {
    const result = await deps.webhooks.create(requireOrg(ctx.org).orgId, ctx.body, actorOf(ctx), ctx.now);
    return result.ok ? json(201, { ...result.endpoint, secret: result.secret }) : result;
  },
});

export const listWebhooks = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/webhooks',
  summary:
    "The org's webhook endpoints (admin). Secrets and header values are never shown, only header names.",
  tags: ['webhooks'],
  auth: requireOrgRole('admin'),
  responses: {
    200: { description: 'Every endpoint', schema: z.object({ webhooks: z.array(endpointView) }) },
  },
  handler: async (ctx, deps: Core) =>
    json(200, { webhooks: await deps.webhooks.list(requireOrg(ctx.org).orgId, ctx.now) }),
});

export const getWebhook = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/webhooks/:id',
  summary: 'One webhook endpoint (admin).',
  tags: ['webhooks'],
  auth: requireOrgRole('admin'),
  responses: { 200: { description: 'The endpoint', schema: endpointView } },
  handler: async (ctx, deps: Core) => {
    const result = await deps.webhooks.get(requireOrg(ctx.org).orgId, ctx.params.id ?? '', ctx.now);
    return result.ok ? json(200, result.endpoint) : result;
  },
});

export const updateWebhook = defineRoute({
  method: 'PATCH',
  path: '/api/orgs/:orgId/webhooks/:id',
  summary:
    'Change an endpoint (admin, step-up). `enabled: true` turns a disabled endpoint back on (deliveries waiting for it go out); `headers` replaces every provider header (`{}` removes them).',
  tags: ['webhooks'],
  auth: requireOrgRole('admin', { stepUp: true, apiKeys: false }),
  body: z
    .strictObject({
      url: urlField.optional(),
      events: eventsField.optional(),
      format: format.optional(),
      description: description.optional(),
      enabled: z.boolean().optional(),
      headers: headersField.optional(),
    })
    .refine((b) => Object.values(b).some((v) => v !== undefined), { error: 'Change at least one field.' }),
  responses: { 200: { description: 'Changed', schema: endpointView } },
  handler: async (ctx, deps: Core) => {
    const result = await deps.webhooks.update(
      requireOrg(ctx.org).orgId,
      ctx.params.id ?? '',
      ctx.body,
      actorOf(ctx),
      ctx.now,
    );
    return result.ok ? json(200, result.endpoint) : result;
  },
});

export const deleteWebhook = defineRoute({
  method: 'DELETE',
  path: '/api/orgs/:orgId/webhooks/:id',
  summary: 'Delete an endpoint and its delivery log (admin, step-up). Nothing more is sent to it.',
  tags: ['webhooks'],
  auth: requireOrgRole('admin', { stepUp: true, apiKeys: false }),
  responses: { 204: { description: 'Deleted' } },
  handler: async (ctx, deps: Core) => {
    const result = await deps.webhooks.delete(
      requireOrg(ctx.org).orgId,
      ctx.params.id ?? '',
      actorOf(ctx),
      ctx.now,
    );
    return result.ok ? json(204) : result;
  },
});

export const rotateWebhookSecret = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/webhooks/:id/rotate-secret',
  summary:
    'A new signing secret, shown in this answer only (admin, step-up). For 24 hours deliveries carry signatures by both the new and the previous secret, so receivers can switch without dropping one.',
  tags: ['webhooks'],
  auth: requireOrgRole('admin', { stepUp: true, apiKeys: false }),
  responses: { 200: { description: 'Rotated; `secret` is never shown again', schema: withSecret } },
  handler: async (ctx, deps: Core) => {
    const result = await deps.webhooks.rotateSecret(
      requireOrg(ctx.org).orgId,
      ctx.params.id ?? '',
      actorOf(ctx),
      ctx.now,
    );
    return result.ok ? json(200, { ...result.endpoint, secret: result.secret }) : result;
  },
});

export const testWebhook = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/webhooks/:id/test',
  summary:
    'Send a `webhook.test` event to this endpoint now (admin); it shows in the delivery log. Test and retry share a budget of 100 sends per org in 15 minutes (429 RATE_LIMITED, Retry-After).',
  tags: ['webhooks'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: {
    202: { description: 'Queued', schema: z.object({ deliveryId: z.string() }) },
    429: { description: 'Over 100 test and retry sends in 15 minutes for this org' },
  },
  handler: async (ctx, deps: Core) => {
    const limited = await manualSendLimited(deps, requireOrg(ctx.org).orgId, ctx.now);
    if (limited) return limited;
    const result = await deps.webhooks.sendTest(
      requireOrg(ctx.org).orgId,
      ctx.params.id ?? '',
      actorOf(ctx),
      ctx.now,
    );
    return result.ok ? json(202, { deliveryId: result.deliveryId }) : result;
  },
});

export const listWebhookDeliveries = defineRoute({
  method: 'GET',
  path: '/api/orgs/:orgId/webhooks/:id/deliveries',
  summary:
    "The endpoint's deliveries, newest first, with every attempt (admin). Pass nextCursor back as cursor for the next page.",
  tags: ['webhooks'],
  auth: requireOrgRole('admin'),
  query: z.strictObject({ cursor: z.string().max(200).optional() }),
  responses: {
    200: {
      description: 'One page of deliveries',
      schema: z.object({ deliveries: z.array(deliveryView), nextCursor: z.string().nullable() }),
    },
  },
  handler: async (ctx, deps: Core) => {
    const after = ctx.query.cursor === undefined ? null : decodeCursor(ctx.query.cursor);
    if (ctx.query.cursor !== undefined && after === null) {
      return fail('VALIDATION_FAILED', 'The request is not valid.', {
        issues: [{ path: 'cursor', message: 'not a cursor this API returned' }],
      });
    }
    const result = await deps.webhooks.deliveries(requireOrg(ctx.org).orgId, ctx.params.id ?? '', after);
    if (!result.ok) return result;
    return json(200, {
      deliveries: result.deliveries,
      nextCursor: result.next ? encodeCursor(result.next) : null,
    });
  },
});

export const retryWebhookDelivery = defineRoute({
  method: 'POST',
  path: '/api/orgs/:orgId/webhooks/:id/deliveries/:deliveryId/retry',
  summary:
    'Send a delivery again now, with the same webhook-id (admin). A failed delivery starts a fresh retry schedule.',
  tags: ['webhooks'],
  auth: requireOrgRole('admin', { apiKeys: false }),
  responses: {
    202: { description: 'Queued' },
    409: { description: 'The delivery is being sent right now' },
    429: { description: 'Over 100 test and retry sends in 15 minutes for this org' },
  },
  handler: async (ctx, deps: Core) => {
    const limited = await manualSendLimited(deps, requireOrg(ctx.org).orgId, ctx.now);
    if (limited) return limited;
    const result = await deps.webhooks.retry(
      requireOrg(ctx.org).orgId,
      ctx.params.id ?? '',
      ctx.params.deliveryId ?? '',
      ctx.now,
    );
    return result.ok ? json(202, {}) : result;
  },
});

export const webhookRoutes = [
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  rotateWebhookSecret,
  testWebhook,
  listWebhookDeliveries,
  retryWebhookDelivery,
];
