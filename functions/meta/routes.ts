import { z } from 'zod';
import { defineRoute, json } from '../../shared/http/route.js';
import type { Platform } from '../../shared/runtime/platform.js';

export interface MetaDeps {
  platform: Platform;
  openapi: () => Record<string, unknown>;
}

export const health = defineRoute({
  method: 'GET',
  path: '/api/health',
  summary: 'Liveness: answers while the function can serve.',
  tags: ['meta'],
  auth: { kind: 'none' },
  responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
  handler: async () => json(200, { status: 'ok' }),
});

export const openapi = defineRoute({
  method: 'GET',
  path: '/api/openapi.json',
  summary: 'This API as an OpenAPI 3.1 document, generated from the request schemas.',
  tags: ['meta'],
  auth: { kind: 'none' },
  responses: { 200: { description: 'OpenAPI 3.1 document' } },
  handler: async (_ctx, deps: MetaDeps) => json(200, deps.openapi()),
});

export const metaRoutes = [health, openapi];
