import type { AnyRoute } from '../../shared/http/route.js';
import type { LoginUnitDeps } from './deps.js';
import { addDomain, listDomains, removeDomain, verifyDomain } from './routes/domains.js';
import { logout } from './routes/logout.js';
import { mfaLogin } from './routes/mfa-login.js';
import { oauthLogin } from './routes/oauth-login.js';
import { passkeyLogin, passkeyLoginOptions } from './routes/passkey-login.js';
import { passwordLogin } from './routes/password-login.js';
import { signInProviders } from './routes/providers.js';
import { samlAcs, samlMetadata } from './routes/saml.js';
import { ssoCallback } from './routes/sso-callback.js';
import { ssoConfirmLink } from './routes/sso-confirm-link.js';
import { ssoLink } from './routes/sso-link.js';
import { deleteSsoSettings, getSsoSettings, putSsoSettings } from './routes/sso-settings.js';
import { ssoStart } from './routes/sso-start.js';

/** `ssoCallback` and `ssoConfirmLink` before `ssoStart`: their paths are not org slugs. */
export const loginRoutes: AnyRoute<LoginUnitDeps>[] = [
  passwordLogin,
  mfaLogin,
  passkeyLoginOptions,
  passkeyLogin,
  logout,
  oauthLogin,
  signInProviders,
  ssoCallback,
  samlAcs,
  samlMetadata,
  ssoConfirmLink,
  ssoStart,
  getSsoSettings,
  putSsoSettings,
  deleteSsoSettings,
  ssoLink,
  addDomain,
  listDomains,
  verifyDomain,
  removeDomain,
];
