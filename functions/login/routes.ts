import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { logout } from './routes/logout.js';
import { mfaLogin } from './routes/mfa-login.js';
import { passwordLogin } from './routes/password-login.js';

export const loginRoutes: AnyRoute<Core>[] = [passwordLogin, mfaLogin, logout];
