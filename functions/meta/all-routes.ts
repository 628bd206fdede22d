import type { AnyRoute } from '../../shared/http/route.js';
import { accountsRoutes } from '../accounts/routes.js';
import { allowlistRoutes } from '../allowlist/routes.js';
import { auditRoutes } from '../audit/routes.js';
import { keysRoutes } from '../keys/routes.js';
import { loginRoutes } from '../login/routes.js';
import { orgsRoutes } from '../orgs/routes.js';
import { recordingsRoutes } from '../recordings/routes.js';
import { sessionsRoutes } from '../sessions/routes.js';
import { metaRoutes } from './routes.js';

/** Every HTTP route of every unit, for the OpenAPI document. Add a unit's table here when it ships. */
export const allRoutes = (): AnyRoute<unknown>[] =>
  [
    ...metaRoutes,
    ...accountsRoutes,
    ...loginRoutes,
    ...sessionsRoutes,
    ...orgsRoutes,
    ...auditRoutes,
    ...keysRoutes,
    ...recordingsRoutes,
    ...allowlistRoutes,
  ] as AnyRoute<unknown>[];
