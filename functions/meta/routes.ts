import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { latestBackupCheck } from '../../shared/backups/store.js';
import type { AuthOutcome } from '../../shared/http/auth.js';
import { defineRoute, json } from '../../shared/http/route.js';
import type { Platform } from '../../shared/runtime/platform.js';
import { securityTxt } from './security-txt.js';

export interface MetaDeps {
  platform: Platform;
  openapi: () => Record<string, unknown>;
  /** Checks the caller's session (for the signed-in `detail` view of /api/health). */
  authenticateSession: (req: IncomingMessage, now: Date, ip: string) => Promise<AuthOutcome>;
}

const backupDetail = z
  .object({
    status: z.enum(['verified', 'missing']),
    checkedAt: z.string(),
    latestSuccessAt: z.string().nullable(),
    runsExamined: z.number(),
  })
  .nullable();

export const health = defineRoute({
  method: 'GET',
  path: '/api/health',
  summary:
    'Liveness: answers while the function can serve. `?detail=backups` (signed-in callers) adds the last Cloud SQL backup check.',
  tags: ['meta'],
  auth: { kind: 'none' },
  query: z.object({ detail: z.enum(['backups']).optional() }),
  responses: {
    200: {
      description: 'Up',
      schema: z.object({ status: z.literal('ok'), backups: backupDetail.optional() }),
    },
    401: { description: 'detail asked for without a session' },
  },
  handler: async (ctx, deps: MetaDeps) => {
    if (ctx.query.detail !== 'backups') return json(200, { status: 'ok' });
    // Liveness stays anonymous; operational detail is only for signed-in callers.
    const auth = await deps.authenticateSession(ctx.req, ctx.now, ctx.ip);
    if (auth.ok === false) return auth;
    const check = await latestBackupCheck(deps.platform.db);
    return json(200, {
      status: 'ok',
      backups: check && {
        status: check.status,
        checkedAt: check.checkedAt.toISOString(),
        latestSuccessAt: check.latestSuccessAt?.toISOString() ?? null,
        runsExamined: check.runsExamined,
      },
    });
  },
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

export const securityTxtRoute = defineRoute({
  method: 'GET',
  path: '/.well-known/security.txt',
  summary:
    'RFC 9116 security.txt: where to report a vulnerability (SECURITY_CONTACT), the policy (SECURITY_POLICY_URL), an Expires always under a year ahead.',
  tags: ['meta'],
  auth: { kind: 'none' },
  responses: { 200: { description: 'text/plain security.txt' } },
  handler: async ({ now }, deps: MetaDeps) => {
    const { config } = deps.platform;
    return {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'public, max-age=86400' },
      raw: Buffer.from(securityTxt({ ...config.securityTxt, appUrl: config.appUrl }, now)),
    };
  },
});

export const metaRoutes = [health, openapi, securityTxtRoute];
