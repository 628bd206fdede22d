import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { sessionsRoutes } from './routes.js';

http(
  'sessions',
  createHttpFunction('sessions', sessionsRoutes, async () => {
    const c = await core();
    return httpEdge(c, c);
  }),
);
