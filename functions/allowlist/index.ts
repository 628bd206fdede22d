import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { allowlistRoutes } from './routes.js';

http(
  'allowlist',
  createHttpFunction('allowlist', allowlistRoutes, async () => {
    const c = await core();
    return httpEdge(c, c);
  }),
);
