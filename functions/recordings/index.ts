import { http } from '@google-cloud/functions-framework';
import { createHttpFunction } from '../../shared/http/router.js';
import { core, httpEdge } from '../../shared/runtime/core.js';
import { recordingsDeps } from '../../shared/runtime/recordings.js';
import { recordingsRoutes } from './routes.js';

http(
  'recordings',
  createHttpFunction('recordings', recordingsRoutes, async () =>
    httpEdge(await recordingsDeps(), await core()),
  ),
);
