import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { createKey } from './routes/create-key.js';
import { deleteKey } from './routes/delete-key.js';
import { listKeys } from './routes/list-keys.js';
import { verifyKey } from './routes/verify-key.js';

export const keysRoutes: AnyRoute<Core>[] = [createKey, listKeys, deleteKey, verifyKey];
