import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { changePassword } from './routes/change-password.js';
import { deleteAccount } from './routes/delete-account.js';
import { confirmLogin } from './routes/login-confirmation.js';
import { mfaRegenerateBackupCodes } from './routes/mfa-backup-codes.js';
import { mfaConfirm } from './routes/mfa-confirm.js';
import { mfaDisable } from './routes/mfa-disable.js';
import { mfaEnroll } from './routes/mfa-enroll.js';
import {
  listPasskeys,
  passkeyRegisterOptions,
  passkeyRegisterVerify,
  removePasskey,
  renamePasskey,
} from './routes/passkeys.js';
import { confirmPasswordReset, requestPasswordReset } from './routes/password-reset.js';
import { acknowledgeSecurityEvent, listSecurityEvents } from './routes/security-events.js';
import { securityEventStream } from './routes/security-events-stream.js';
import { signup } from './routes/signup.js';
import { verifyEmail } from './routes/verify-email.js';

export const accountsRoutes: AnyRoute<Core>[] = [
  signup,
  verifyEmail,
  requestPasswordReset,
  confirmPasswordReset,
  changePassword,
  mfaEnroll,
  mfaConfirm,
  mfaDisable,
  mfaRegenerateBackupCodes,
  passkeyRegisterOptions,
  passkeyRegisterVerify,
  listPasskeys,
  renamePasskey,
  removePasskey,
  confirmLogin,
  securityEventStream,
  listSecurityEvents,
  acknowledgeSecurityEvent,
  deleteAccount,
];
