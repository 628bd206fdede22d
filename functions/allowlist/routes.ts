import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { check } from './routes/check.js';
import { checkInOrg } from './routes/check-in-org.js';
import { getAllowlist } from './routes/get-allowlist.js';
import { putAllowlist } from './routes/put-allowlist.js';

export const allowlistRoutes: AnyRoute<Core>[] = [getAllowlist, putAllowlist, checkInOrg, check];
