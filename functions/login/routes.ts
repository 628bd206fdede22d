import type { AnyRoute } from '../../shared/http/route.js';
import type { LoginUnitDeps } from './deps.js';
import { logout } from './routes/logout.js';
import { mfaLogin } from './routes/mfa-login.js';
import { oauthLogin } from './routes/oauth-login.js';
import { passkeyLogin, passkeyLoginOptions } from './routes/passkey-login.js';
import { passwordLogin } from './routes/password-login.js';
import { ssoCallback } from './routes/sso-callback.js';
import { ssoLink } from './routes/sso-link.js';
import { deleteSsoSettings, getSsoSettings, putSsoSettings } from './routes/sso-settings.js';
import { ssoStart } from './routes/sso-start.js';

/** `ssoCallback` before `ssoStart`: `/api/login/sso/callback` is not an org slug. */
export const loginRoutes: AnyRoute<LoginUnitDeps>[] = [
  passwordLogin,
  mfaLogin,
  passkeyLoginOptions,
  passkeyLogin,
  logout,
  oauthLogin,
  ssoCallback,
  ssoStart,
  getSsoSettings,
  putSsoSettings,
  deleteSsoSettings,
  ssoLink,
];
