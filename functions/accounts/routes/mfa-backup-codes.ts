import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { Core } from '../../../shared/runtime/core.js';
import { backupCodesView } from './mfa-views.js';

export const mfaRegenerateBackupCodes = defineRoute({
  method: 'POST',
  path: '/api/mfa/backup-codes',
  summary:
    'Replace the backup codes (needs step-up): 10 new codes, shown this once; the old ones stop working.',
  tags: ['mfa'],
  auth: { kind: 'session', stepUp: true },
  responses: {
    200: { description: 'The new backup codes', schema: backupCodesView },
    403: { description: 'Outside the step-up window (STEP_UP_REQUIRED)' },
    409: { description: 'MFA is not on (CONFLICT)' },
  },
  handler: async ({ principal, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.mfa.regenerateBackupCodes(user.id, { ip, now });
    return result.ok ? json(200, { backupCodes: result.backupCodes }) : result;
  },
});
