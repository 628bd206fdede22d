import type { AnyRoute } from '../../shared/http/route.js';
import type { AuditDeps } from './deps.js';
import { accountActivity } from './routes/account-activity.js';
import { orgAuditLog } from './routes/org-audit.js';
import { verifyOrgAuditLog } from './routes/org-verify.js';

export const auditRoutes: AnyRoute<AuditDeps>[] = [orgAuditLog, verifyOrgAuditLog, accountActivity];
