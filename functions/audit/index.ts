import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { type AuditRouteDeps, auditDeps } from './deps.js';
import { auditRoutes } from './routes.js';

http(
  'audit',
  createHttpFunction('audit', auditRoutes, async () =>
    httpEdge<AuditRouteDeps>(await auditDeps(), await core()),
  ),
);
