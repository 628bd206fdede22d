import { http } from '@google-cloud/functions-framework';
import { createAuthenticator } from '../../shared/http/auth.js';
import { buildOpenApi } from '../../shared/http/openapi.js';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { allRoutes } from './all-routes.js';
import { type MetaDeps, metaRoutes } from './routes.js';

let document: Record<string, unknown> | undefined;
const openapi = () => {
  document ??= buildOpenApi(allRoutes(), { version: '1.0.0' });
  return document;
};

http(
  'meta',
  createHttpFunction('meta', metaRoutes, async () => {
    const c = await core();
    const authenticate = createAuthenticator({ sessions: c.sessions });
    return httpEdge<MetaDeps>(
      {
        platform: c.platform,
        openapi,
        authenticateSession: (req, now, ip) =>
          authenticate(req, { kind: 'session', boundSessions: true }, { now, ip }),
      },
      c,
    );
  }),
);
