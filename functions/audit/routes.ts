import type { AnyRoute } from '../../shared/http/route.js';
import type { AuditRouteDeps } from './deps.js';
import { accountActivity } from './routes/account-activity.js';
import { orgAuditLog } from './routes/org-audit.js';
import { verifyOrgAuditLog } from './routes/org-verify.js';

export const auditRoutes: AnyRoute<AuditRouteDeps>[] = [orgAuditLog, verifyOrgAuditLog, accountActivity];
