import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { loginDeps } from './deps.js';
import { loginRoutes } from './routes.js';

http(
  'login',
  createHttpFunction('login', loginRoutes, async () => httpEdge(await loginDeps(), await core())),
);
