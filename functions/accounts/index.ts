import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { accountsRoutes } from './routes.js';

http(
  'accounts',
  createHttpFunction('accounts', accountsRoutes, async () => {
    const c = await core();
    return httpEdge(c, c);
  }),
);
