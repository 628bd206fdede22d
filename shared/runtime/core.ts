import { isBreachedPassword } from '../accounts/breached.js';
import { LoginService } from '../accounts/login.js';
import { PasswordHasher } from '../accounts/password.js';
import { AccountService } from '../accounts/service.js';
import { type AllowlistServices, createAllowlistServices } from '../allowlist/services.js';
import { createAuthenticator, type OrgGate } from '../http/auth.js';
import type { HttpEdge } from '../http/router.js';
import { createOrgServices, type OrgServices } from '../orgs/services.js';
import { LoginThrottle } from '../ratelimit/login-throttle.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { SessionCommands } from '../sessions/commands.js';
import { DeviceStore, DeviceTracker } from '../sessions/devices.js';
import type { RevocationFeed } from '../sessions/revocation-feed.js';
import { SessionService } from '../sessions/service.js';
import { StepUpService } from '../sessions/step-up.js';
import { SessionStore } from '../sessions/store.js';
import { fastState } from './fast-state.js';
import { type Platform, perPlatform } from './platform.js';

/** Services most units share: identity, sessions and throttling over the platform. */
export interface Core {
  platform: Platform;
  sessions: SessionService;
  sessionStore: SessionStore;
  hasher: PasswordHasher;
  rateLimits: RateLimitStore;
  throttle: LoginThrottle;
  accounts: AccountService;
  login: LoginService;
  orgs: OrgServices;
  devices: DeviceStore;
  sessionCommands: SessionCommands;
  stepUp: StepUpService;
  revocationFeed: RevocationFeed;
  allowlists: AllowlistServices;
}

export const core = perPlatform(async (p): Promise<Core> => {
  const sessionStore = new SessionStore(p.db);
  const sessions = new SessionService(sessionStore, p.metrics);
  const pepper = await p.secrets.get('password-pepper');
  const hasher = new PasswordHasher(pepper, p.config.passwordHashCost);
  const { rateLimits, revocationFeed } = await fastState(p);
  const throttle = new LoginThrottle(rateLimits, p.logger, p.metrics);
  const accounts = new AccountService({
    db: p.db,
    hasher,
    isBreached: isBreachedPassword,
    sessions,
    mailKeys: () => p.mailKeys(),
    appUrl: p.config.appUrl,
  });
  const orgs = createOrgServices({
    db: p.db,
    sessions,
    mailKeys: () => p.mailKeys(),
    appUrl: p.config.appUrl,
  });
  const allowlists = createAllowlistServices({
    db: p.db,
    clock: p.clock,
    logger: p.logger,
    metrics: p.metrics,
  });
  const devices = new DeviceStore(p.db);
  const tracker = new DeviceTracker({ devices, mailKeys: () => p.mailKeys(), appUrl: p.config.appUrl });
  const login = new LoginService({ db: p.db, hasher, throttle, sessions, devices: tracker });
  const sessionCommands = new SessionCommands(p.db, sessionStore, sessions, devices);
  const stepUp = new StepUpService({ db: p.db, passwords: hasher, throttle, sessions });
  return {
    platform: p,
    sessions,
    sessionStore,
    hasher,
    rateLimits,
    throttle,
    accounts,
    login,
    devices,
    sessionCommands,
    stepUp,
    revocationFeed,
    orgs,
    allowlists,
  };
});

/** The HTTP edge every unit's router runs behind. */
export function httpEdge<Deps>(deps: Deps, c: Core): HttpEdge<Deps> {
  const p = c.platform;
  const orgGate: OrgGate = c.orgs.gate;
  return {
    deps,
    logger: p.logger,
    now: () => p.clock.now(),
    trustedProxyHops: p.config.trustedProxyHops,
    authenticate: createAuthenticator({ sessions: c.sessions, orgGate, network: c.allowlists.gate }),
    afterMutation: () => p.relay.drain(),
  };
}
