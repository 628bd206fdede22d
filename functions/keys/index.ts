import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { keysRoutes } from './routes.js';

http(
  'keys',
  createHttpFunction('keys', keysRoutes, async () => {
    const c = await core();
    return httpEdge(c, c);
  }),
);
