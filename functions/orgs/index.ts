import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { orgsRoutes } from './routes.js';

http(
  'orgs',
  createHttpFunction('orgs', orgsRoutes, async () => {
    const c = await core();
    return httpEdge(c, c);
  }),
);
