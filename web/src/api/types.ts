/**
 * Response and request shapes, inferred from the API's own zod schemas (type-only imports: none
 * of the server code reaches the bundle).
 */
import type { z } from 'zod';
import type { backupCodesView } from '../../../functions/accounts/routes/mfa-views.js';
import type { allowlistView } from '../../../functions/allowlist/views.js';
import type { auditEventView, verifyReportView } from '../../../functions/audit/routes/views.js';
import type { issuedKeyView, keyView } from '../../../functions/keys/views.js';
import type { loginResponse } from '../../../functions/login/routes/password-login.js';
import type { invitationView } from '../../../functions/orgs/routes/invite.js';
import type { policyView } from '../../../functions/orgs/routes/policy.js';
import type { memberView, orgView } from '../../../functions/orgs/views.js';
import type { recordingView } from '../../../functions/recordings/routes/list-recordings.js';
import type { currentSessionHold } from '../../../functions/sessions/routes/current.js';
import type { deviceView } from '../../../functions/sessions/routes/devices-list.js';
import type { listedSession } from '../../../functions/sessions/routes/list.js';
import type { Role } from '../../../shared/http/route.js';
import type { sessionView, userView } from '../../../shared/http/views.js';
import type { securityEventView } from '../../../shared/signals/security-events.js';

export type { Role };
export type User = z.infer<typeof userView>;
export type SessionInfo = z.infer<typeof sessionView>;
export type ListedSession = z.infer<typeof listedSession>;
export type Device = z.infer<typeof deviceView>;
export type LoginAnswer = z.infer<typeof loginResponse>;
export type Org = z.infer<typeof orgView> & { role: Role; expiresAt: string | null };
export type Member = z.infer<typeof memberView>;
export type Invitation = z.infer<typeof invitationView>;
export type Policy = z.infer<typeof policyView>;
export type ApiKey = z.infer<typeof keyView>;
export type IssuedKey = z.infer<typeof issuedKeyView>;
export type Allowlist = z.infer<typeof allowlistView>;
export type AuditEvent = z.infer<typeof auditEventView>;
export type VerifyReport = z.infer<typeof verifyReportView>;
export type Recording = z.infer<typeof recordingView>;
export type BackupCodes = z.infer<typeof backupCodesView>;
export type SecurityEvent = z.infer<typeof securityEventView>;
export type SessionHold = z.infer<typeof currentSessionHold>;
export type OrgSession = SessionInfo & { userId: string; orgId: string | null; active: boolean };
export const roleNames: readonly Role[] = ['viewer', 'member', 'admin', 'owner'];
