import { z } from 'zod';
import { requireSession } from '../../../shared/http/principal.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { totpCodeField } from '../../../shared/http/schemas.js';
import type { Core } from '../../../shared/runtime/core.js';
import { backupCodesView } from './mfa-views.js';

export const mfaConfirm = defineRoute({
  method: 'POST',
  path: '/api/mfa/totp/confirm',
  summary:
    'Turn MFA on with the first valid code from the authenticator app; answers the 10 backup codes, shown this once. Needs a step-up, like enrolment.',
  tags: ['mfa'],
  auth: { kind: 'session', stepUp: true },
  body: z.strictObject({ code: totpCodeField }),
  responses: {
    200: { description: 'MFA is on; store the backup codes now', schema: backupCodesView },
    401: { description: 'The code is wrong (INVALID_CREDENTIALS)' },
    403: { description: 'STEP_UP_REQUIRED: step up with the password first' },
    409: { description: 'No enrolment started, or MFA already on (CONFLICT)' },
  },
  handler: async ({ principal, body, ip, now }, deps: Core) => {
    const { user } = requireSession(principal);
    const result = await deps.mfa.confirm(user.id, body.code, { ip, now });
    return result.ok ? json(200, { backupCodes: result.backupCodes }) : result;
  },
});
