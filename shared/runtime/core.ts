import { isBreachedPassword } from '../accounts/breached.js';
import { AccountDeletion } from '../accounts/deletion.js';
import { LoginService } from '../accounts/login.js';
import { PasswordHasher } from '../accounts/password.js';
import { AccountService } from '../accounts/service.js';
import { type AllowlistServices, createAllowlistServices } from '../allowlist/services.js';
import type { KeyRing } from '../crypto/seal.js';
import { cookieOrigins, createAuthenticator, type OrgGate } from '../http/auth.js';
import type { HttpEdge } from '../http/router.js';
import { ApiKeyService } from '../keys/service.js';
import { ApiKeyStore } from '../keys/store.js';
import { mfaKeyRing } from '../mfa/keys.js';
import type { MfaService } from '../mfa/service.js';
import { createMfaService } from '../mfa/services.js';
import { createOrgServices, type OrgServices } from '../orgs/services.js';
import { relyingParty } from '../passkeys/model.js';
import { PasskeyService } from '../passkeys/service.js';
import { PasskeyStore } from '../passkeys/store.js';
import { LoginThrottle } from '../ratelimit/login-throttle.js';
import { RequestThrottle } from '../ratelimit/request-throttle.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { ScimTokenService } from '../scim/tokens.js';
import { ScimUserService } from '../scim/users.js';
import { SessionCommands } from '../sessions/commands.js';
import { DeviceStore, DeviceTracker } from '../sessions/devices.js';
import type { RevocationFeed } from '../sessions/revocation-feed.js';
import { SessionService } from '../sessions/service.js';
import { StepUpService } from '../sessions/step-up.js';
import { SessionStore } from '../sessions/store.js';
import { LoginConfirmation } from '../signals/confirmation.js';
import { SecurityEventLog } from '../signals/security-events.js';
import { DomainStore } from '../sso/domain-store.js';
import { SsoEnforcement } from '../sso/enforcement.js';
import { webhookKeyRing } from '../webhooks/keys.js';
import { WebhookService } from '../webhooks/service.js';
import { type FastState, fastState } from './fast-state.js';
import { type Platform, perPlatform } from './platform.js';

/** Services most units share: identity, sessions and throttling over the platform. */
export interface Core {
  platform: Platform;
  sessions: SessionService;
  sessionStore: SessionStore;
  hasher: PasswordHasher;
  rateLimits: RateLimitStore;
  throttle: LoginThrottle;
  /** Per-IP limits of the unauthenticated account routes and the per-recipient mail cap. */
  requestThrottle: RequestThrottle;
  accounts: AccountService;
  accountDeletion: AccountDeletion;
  login: LoginService;
  mfa: MfaService;
  passkeys: PasskeyService;
  orgs: OrgServices;
  devices: DeviceStore;
  sessionCommands: SessionCommands;
  stepUp: StepUpService;
  revocationFeed: RevocationFeed;
  revocationFeedIn: FastState['revocationFeedIn'];
  apiKeys: ApiKeyService;
  scimTokens: ScimTokenService;
  scimUsers: ScimUserService;
  allowlists: AllowlistServices;
  securityEvents: SecurityEventLog;
  loginConfirmation: LoginConfirmation;
  webhooks: WebhookService;
}

export const core = perPlatform(async (p): Promise<Core> => {
  const sessionStore = new SessionStore(p.db);
  const sessions = new SessionService(sessionStore, p.metrics);
  const pepper = await p.secrets.get('password-pepper');
  const hasher = new PasswordHasher(pepper, p.config.passwordHashCost);
  const { rateLimits, revocationFeed, revocationFeedIn } = await fastState(p);
  const throttle = new LoginThrottle(rateLimits, p.logger, p.metrics);
  const requestThrottle = new RequestThrottle(rateLimits, p.logger, p.metrics);
  const accounts = new AccountService({
    db: p.db,
    hasher,
    isBreached: isBreachedPassword,
    sessions,
    mailKeys: () => p.mailKeys(),
    appUrl: p.config.appUrl,
    mailQuota: requestThrottle,
  });
  let mfaRing: Promise<KeyRing> | undefined;
  const mfa = createMfaService({ db: p.db, keys: () => (mfaRing ??= mfaKeyRing(p.secrets)) });
  const orgs = createOrgServices({
    db: p.db,
    sessions,
    mailKeys: () => p.mailKeys(),
    appUrl: p.config.appUrl,
    lifecycle: { graceDays: p.config.orgDeletionGraceDays, auditRetentionDays: p.config.auditRetentionDays },
  });
  const allowlists = createAllowlistServices({
    db: p.db,
    clock: p.clock,
    logger: p.logger,
    metrics: p.metrics,
  });
  const passkeys = new PasskeyService(
    new PasskeyStore(p.db),
    relyingParty(p.config.appUrl, p.config.appOrigins),
  );
  const devices = new DeviceStore(p.db);
  const tracker = new DeviceTracker({ devices, mailKeys: () => p.mailKeys(), appUrl: p.config.appUrl });
  const login = new LoginService({
    db: p.db,
    hasher,
    throttle,
    sessions,
    devices: tracker,
    secondFactor: mfa,
    ssoEnforcement: new SsoEnforcement({ domains: new DomainStore(p.db), appUrl: p.config.appUrl }),
    passkeys,
  });
  const sessionCommands = new SessionCommands(p.db, sessionStore, sessions, devices);
  let webhookRing: Promise<KeyRing> | undefined;
  const webhooks = new WebhookService({
    db: p.db,
    keys: () => (webhookRing ??= webhookKeyRing(p.secrets)),
    urlPolicy: { allowPrivate: p.config.webhooks.allowPrivate, allowHttp: p.config.webhooks.allowHttp },
  });
  const stepUp = new StepUpService({ db: p.db, passwords: hasher, throttle, sessions, codes: mfa, passkeys });
  return {
    platform: p,
    sessions,
    sessionStore,
    hasher,
    rateLimits,
    throttle,
    requestThrottle,
    accounts,
    accountDeletion: new AccountDeletion({ db: p.db, sessions, orgStore: orgs.store, members: orgs.members }),
    login,
    mfa,
    passkeys,
    devices,
    sessionCommands,
    stepUp,
    revocationFeed,
    orgs,
    revocationFeedIn,
    apiKeys: new ApiKeyService(new ApiKeyStore(p.db)),
    scimTokens: new ScimTokenService(p.db),
    scimUsers: new ScimUserService({
      db: p.db,
      orgStore: orgs.store,
      reach: orgs.reach,
      sessions,
      domains: new DomainStore(p.db),
      mailKeys: () => p.mailKeys(),
      appUrl: p.config.appUrl,
    }),
    allowlists,
    securityEvents: new SecurityEventLog(p.db),
    loginConfirmation: new LoginConfirmation({
      db: p.db,
      sessions,
      sessionStore,
      mailKeys: () => p.mailKeys(),
      appUrl: p.config.appUrl,
    }),
    webhooks,
  };
});

const edges = new WeakMap<Core, WeakMap<object, HttpEdge<unknown>>>();

/**
 * The HTTP edge every unit's router runs behind. Units ask for it on every request; it is built
 * once per (deps, core) pair and kept, so a request does not rebuild the authenticator and its
 * origin list.
 */
export function httpEdge<Deps>(deps: Deps, c: Core): HttpEdge<Deps> {
  if (typeof deps !== 'object' || deps === null) return buildEdge(deps, c);
  let perDeps = edges.get(c);
  if (!perDeps) {
    perDeps = new WeakMap();
    edges.set(c, perDeps);
  }
  let edge = perDeps.get(deps) as HttpEdge<Deps> | undefined;
  if (!edge) {
    edge = buildEdge(deps, c);
    perDeps.set(deps, edge as HttpEdge<unknown>);
  }
  return edge;
}

function buildEdge<Deps>(deps: Deps, c: Core): HttpEdge<Deps> {
  const p = c.platform;
  const orgGate: OrgGate = c.orgs.gate;
  return {
    deps,
    logger: p.logger,
    now: () => p.clock.now(),
    trustedProxyHops: p.config.trustedProxyHops,
    authenticate: createAuthenticator({
      sessions: c.sessions,
      orgGate,
      apiKeys: c.apiKeys,
      scimTokens: c.scimTokens,
      network: c.allowlists.gate,
      allowedOrigins: cookieOrigins(p.config.appOrigins),
    }),
    afterMutation: () => p.relay.drain(),
  };
}
