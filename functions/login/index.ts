import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { loginRoutes } from './routes.js';

http(
  'login',
  createHttpFunction('login', loginRoutes, async () => {
    const c = await core();
    return httpEdge(c, c);
  }),
);
