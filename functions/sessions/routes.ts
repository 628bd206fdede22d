import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { currentSession } from './routes/current.js';

export const sessionsRoutes: AnyRoute<Core>[] = [currentSession];
