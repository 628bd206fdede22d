import { type Core, core } from '../../shared/runtime/core.js';
import { perPlatform } from '../../shared/runtime/platform.js';
import { keyBytes } from '../../shared/secrets/secrets.js';
import { MaxMindLocator } from '../../shared/signals/geoip.js';
import { SignInWatch } from '../../shared/signals/sign-in.js';
import { DnsTxtLookup } from '../../shared/sso/dns-txt.js';
import { DomainStore } from '../../shared/sso/domain-store.js';
import { DomainService } from '../../shared/sso/domains.js';
import { FirebaseIdTokens } from '../../shared/sso/firebase.js';
import { OAuthLogin } from '../../shared/sso/oauth-login.js';
import { SamlService } from '../../shared/sso/saml.js';
import { SsoService } from '../../shared/sso/service.js';
import { SsoStore } from '../../shared/sso/store.js';

export interface LoginUnitDeps extends Core {
  sso: SsoService;
  domains: DomainService;
  saml: SamlService;
  /** Null when no Firebase project is configured (FIREBASE_PROJECT_ID / GOOGLE_CLOUD_PROJECT). */
  oauth: OAuthLogin | null;
  /** What the console needs for Google/GitHub sign-in; null unless Firebase and its Web API key are configured. */
  firebaseWeb: { apiKey: string; providers: Array<'google.com' | 'github.com'> } | null;
}

/** The login unit's services: the shared core plus Firebase sign-in and per-org SSO. */
export const loginDeps = perPlatform(async (p): Promise<LoginUnitDeps> => {
  const c = await core();
  // Only this unit locates sign-ins: the database starts loading with the unit, in the background.
  const login = c.login.withSignals(
    new SignInWatch({
      locator: new MaxMindLocator(p.config.geoipDatabase).warm(),
      sessions: c.sessionStore,
      mailKeys: () => p.mailKeys(),
      appUrl: p.config.appUrl,
      logger: p.logger,
    }),
  );
  const projectId = p.config.firebaseProjectId;
  const oauth = projectId
    ? new OAuthLogin({ db: p.db, tokens: new FirebaseIdTokens(projectId, p.logger), login })
    : null;
  const domainStore = new DomainStore(p.db);
  const ssoStore = new SsoStore(p.db);
  const sso = new SsoService({
    domains: domainStore,
    mailKeys: () => p.mailKeys(),
    store: ssoStore,
    login,
    stateKey: () => keyBytes(p.secrets, 'oauth-state-key'),
    sealKeys: async () => ({
      currentKeyId: 's1',
      keys: new Map([['s1', await keyBytes(p.secrets, 'sso-seal-key')]]),
    }),
    appUrl: p.config.appUrl,
    appOrigins: p.config.appOrigins,
    // Plain-http issuers only in embedded mode (local runs, tests); https on Google Cloud.
    allowLoopbackHttp: p.config.outbound.allowHttp,
    fetch: p.outbound,
    logger: p.logger,
  });
  const domains = new DomainService({
    store: domainStore,
    dns: new DnsTxtLookup(p.config.dnsResolvers),
    logger: p.logger,
  });
  const saml = new SamlService({
    store: ssoStore,
    sso,
    stateKey: () => keyBytes(p.secrets, 'oauth-state-key'),
    appUrl: p.config.appUrl,
    appOrigins: p.config.appOrigins,
    allowLoopbackHttp: p.config.googleCloudProject === undefined,
    logger: p.logger,
  });
  const firebaseWeb = oauth && p.config.firebaseWeb ? p.config.firebaseWeb : null;
  return { ...c, login, sso, oauth, domains, saml, firebaseWeb };
});
