import type { IncomingMessage } from 'node:http';
import { type Failure, fail } from '../errors/codes.js';
import { type PasskeyPolicy, stepUpSatisfies } from '../passkeys/model.js';
import { inSudo } from '../sessions/model.js';
import type { SessionService } from '../sessions/service.js';
import type { SessionWithUser } from '../sessions/store.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import type { ApiKeyIdentity, OrgAccess, Principal, ScimTokenIdentity } from './principal.js';
import { type AuthRequirement, type Role, roles } from './route.js';

export const API_KEY_PREFIX = 'sf_live_';

/**
 * The credential a request carries: `Authorization: Bearer <token>`, else the session cookie.
 * `malformed` when an Authorization header is there but is not one Bearer token (say a bare token),
 * so the answer can say how to send it instead of "sign in first".
 */
export function presentedToken(req: IncomingMessage): string | undefined | { malformed: true } {
  const credential = presentedCredential(req);
  return credential && 'malformed' in credential ? credential : credential?.token;
}

function presentedCredential(
  req: IncomingMessage,
): { token: string; via: 'bearer' | 'cookie' } | { malformed: true } | undefined {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ? { token: match[1], via: 'bearer' } : { malformed: true };
  }
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The origins the cookie check accepts: APP_URL's and APP_ORIGINS, and for a loopback one (the
 * embedded default http://localhost:8080) its other loopback spellings on the same port, so a
 * console opened at http://127.0.0.1:8080 works too. Only this machine can serve those origins.
 */
export function cookieOrigins(appOrigins: readonly string[]): string[] {
  const origins = new Set(appOrigins);
  for (const origin of appOrigins) {
    const url = new URL(origin);
    if (!LOOPBACK_HOSTS.includes(url.hostname)) continue;
    for (const host of LOOPBACK_HOSTS)
      origins.add(`${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`);
  }
  return [...origins];
}

/**
 * CSRF defence for the console: the browser attaches the cookie to requests any site starts, but
 * it always sends `Origin` on unsafe ones and a page cannot forge it. So a cookie-authenticated
 * unsafe request counts only from APP_URL's origin or APP_ORIGINS; a sibling subdomain is another
 * origin (SameSite=Lax alone would let it through: it is the same site). Bearer tokens are not
 * ambient, so they need no such check. The answer is 403 ORIGIN_NOT_ALLOWED, not 401: the cookie
 * is valid, so signing in again would not help (and the console must not sign the user out).
 */
export function cookieOriginRefused(req: IncomingMessage, allowedOrigins: readonly string[]): Failure | null {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return null;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && allowedOrigins.includes(origin)) return null;
  return fail(
    'ORIGIN_NOT_ALLOWED',
    `The session cookie is accepted on ${req.method} requests only from the console's own origin (${allowedOrigins.join(', ')}); this request came from ${typeof origin === 'string' ? origin : 'no origin'}. Use the console, or send the token as Authorization: Bearer.`,
  );
}

/** `Authorization: Basic base64(user:password)`; null when absent or malformed. */
export function basicCredentials(req: IncomingMessage): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function roleAtLeast(role: Role, minRole: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(minRole);
}

/** Membership and org policy for a session acting in an org (the orgs domain implements it). */
export interface OrgGate {
  /** NOT_FOUND for a non-member (never 403: another org's resources do not exist for the caller). */
  authorizeSession(
    found: SessionWithUser,
    orgId: string,
    context: { ip: string; now: Date },
  ): Promise<{ ok: true; access: OrgAccess } | Failure>;
}

/** Verifies `sf_live_…` API keys (the keys domain implements it). */
export interface ApiKeyVerifier {
  verify(key: string, now: Date): Promise<ApiKeyIdentity | null>;
}

/** Verifies `sf_scim_…` SCIM tokens (the scim domain implements it). */
export interface ScimTokenVerifier {
  verify(token: string, now: Date): Promise<ScimTokenIdentity | null>;
}

/** The org's network policy (the allowlist domain implements it); null means allowed. */
export interface NetworkGate {
  check(orgId: string, ip: string): Promise<Failure | null>;
}

export interface AuthenticatorParts {
  sessions: SessionService;
  orgGate?: OrgGate;
  apiKeys?: ApiKeyVerifier;
  scimTokens?: ScimTokenVerifier;
  network?: NetworkGate;
  /** Origins allowed to make cookie-authenticated unsafe requests (APP_URL + APP_ORIGINS); unset: no check. */
  allowedOrigins?: readonly string[];
}

export type AuthOutcome = { ok: true; principal: Principal | null; org: OrgAccess | null } | Failure;

/**
 * Authenticates and authorizes one request for its route's requirement. Session validity is read
 * from the database on every request (no cache), so revocations take effect on the next request.
 * For org routes the order is: credential → membership (or the key's own org) → network
 * allowlist → role → step-up.
 */
export function createAuthenticator(parts: AuthenticatorParts) {
  return async (
    req: IncomingMessage,
    requirement: AuthRequirement,
    context: { ip: string; now: Date; orgId?: string | null },
  ): Promise<AuthOutcome> => {
    if (requirement.kind === 'none') return { ok: true, principal: null, org: null };
    if (requirement.kind === 'basic_key') return authorizeBasicKey(parts, req, requirement, context);
    if (requirement.kind === 'scim') return authorizeScimToken(parts, req, context);
    const credential = presentedCredential(req);
    if (credential && 'malformed' in credential) {
      return fail(
        'UNAUTHENTICATED',
        'Use Authorization: Bearer <token> (the word Bearer, a space, then the token).',
      );
    }
    if (!credential) return fail('UNAUTHENTICATED', 'Sign in first.');
    if (credential.via === 'cookie' && parts.allowedOrigins) {
      const refused = cookieOriginRefused(req, parts.allowedOrigins);
      if (refused) return refused;
    }
    const token = credential.token;

    if (token.startsWith(API_KEY_PREFIX)) {
      if (requirement.kind !== 'org' || requirement.apiKeys === false) {
        return fail('UNAUTHENTICATED', 'This route needs a user session, not an API key.');
      }
      return authorizeApiKey(parts, token, requirement, context);
    }

    // Org routes judge the org's idle timeout on last_seen_at as it was before this request.
    const result = await parts.sessions.authenticate(token, context.now, {
      touch: requirement.kind !== 'org',
    });
    if (!result.ok) return sessionEnded(result.reason);
    const principal: Principal = { type: 'session', ...result.value };
    const hold = result.value.session.step_up_reason;
    if (hold && !(requirement.kind === 'session' && requirement.whileHeld)) {
      return fail('STEP_UP_REQUIRED', heldMessage, { extra: { reason: hold } });
    }
    if (requirement.kind === 'session') {
      if (!personalRouteAllowed(result.value.session.org_id, requirement)) return personalSessionRequired();
      if (requirement.stepUp && !inSudo(result.value.session.sudo_until, context.now))
        return stepUpRequired();
      return { ok: true, principal, org: null };
    }
    if (!context.orgId || !parts.orgGate) return fail('NOT_FOUND');
    const member = await parts.orgGate.authorizeSession(result.value, context.orgId, {
      ip: context.ip,
      now: context.now,
    });
    if (member.ok === false) return member;
    await parts.sessions.touch(result.value, context.now);
    const denied = await orgChecks(parts, requirement, member.access, context, sudoOf(result.value.session));
    return denied ?? { ok: true, principal, org: member.access };
  };
}

/**
 * An `sf_live_…` key acting in an org: verified, of the route's org (or, with `ownOrg`, in the
 * key's own org, for routes whose org comes from the credential), then the org's network
 * allowlist and the role. Bearer keys and Basic keys (`basic_key` routes) both come here.
 */
export async function authorizeApiKey(
  parts: Pick<AuthenticatorParts, 'apiKeys' | 'network'>,
  token: string,
  requirement: Extract<AuthRequirement, { kind: 'org' }>,
  context: { ip: string; now: Date; orgId?: string | null },
  ownOrg = false,
): Promise<AuthOutcome> {
  if (!parts.apiKeys) return fail('UNAUTHENTICATED', 'This route needs a user session, not an API key.');
  const key = await parts.apiKeys.verify(token, context.now);
  if (!key) return fail('UNAUTHENTICATED', 'The API key is not valid.');
  if (!ownOrg && (!context.orgId || key.orgId !== context.orgId)) return fail('NOT_FOUND');
  const access: OrgAccess = { orgId: key.orgId, role: key.role };
  const denied = await orgChecks(parts, requirement, access, context, null);
  return denied ?? { ok: true, principal: { type: 'api_key', key }, org: access };
}

/**
 * The asciinema CLI's credential: the install id as the HTTP Basic password, which must be an org
 * API key; the upload then acts in the key's own org. The messages name the install id, since
 * that is where an asciinema user puts the key.
 */
async function authorizeBasicKey(
  parts: Pick<AuthenticatorParts, 'apiKeys' | 'network'>,
  req: IncomingMessage,
  requirement: Extract<AuthRequirement, { kind: 'basic_key' }>,
  context: { ip: string; now: Date },
): Promise<AuthOutcome> {
  const credentials = basicCredentials(req);
  if (!credentials) {
    return fail(
      'UNAUTHENTICATED',
      'Authentication required: put an org API key (sf_live_...) in your asciinema install-id.',
    );
  }
  const outcome = await authorizeApiKey(
    parts,
    credentials.password,
    { kind: 'org', minRole: requirement.minRole },
    context,
    true,
  );
  if (outcome.ok === false && outcome.code === 'UNAUTHENTICATED') {
    return fail(
      'UNAUTHENTICATED',
      'Invalid API key: put a valid org API key (sf_live_...) in your asciinema install-id.',
    );
  }
  return outcome;
}

const SCIM_TOKEN_PREFIX = 'sf_scim_';

/**
 * An org's SCIM token as `Authorization: Bearer` (no cookie: a browser must never be able to
 * carry it), acting in its own org, then the org's network allowlist. Every refusal of the
 * credential reads the same, so a caller learns nothing about which tokens exist or were revoked.
 */
async function authorizeScimToken(
  parts: Pick<AuthenticatorParts, 'scimTokens' | 'network'>,
  req: IncomingMessage,
  context: { ip: string; now: Date },
): Promise<AuthOutcome> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  if (!token || !parts.scimTokens) {
    return fail('UNAUTHENTICATED', "Send the organization's SCIM token as Authorization: Bearer <token>.");
  }
  const identity = token.startsWith(SCIM_TOKEN_PREFIX)
    ? await parts.scimTokens.verify(token, context.now)
    : null;
  if (!identity) return fail('UNAUTHENTICATED', 'The SCIM token is not valid.');
  const blocked = parts.network ? await parts.network.check(identity.orgId, context.ip) : null;
  if (blocked) return blocked;
  return {
    ok: true,
    principal: { type: 'scim_token', token: identity },
    // SCIM acts with at most the admin role's reach (it never touches owners: shared/scim).
    org: { orgId: identity.orgId, role: 'admin' },
  };
}

async function orgChecks(
  parts: Pick<AuthenticatorParts, 'network'>,
  requirement: Extract<AuthRequirement, { kind: 'org' }>,
  access: OrgAccess,
  context: { ip: string; now: Date },
  sudo: { until: Date | null; method: string | null; aaguid: string | null } | null,
): Promise<Failure | null> {
  const blocked = parts.network ? await parts.network.check(access.orgId, context.ip) : null;
  if (blocked) return blocked;
  if (!roleAtLeast(access.role, requirement.minRole)) {
    return fail('INSUFFICIENT_ROLE', `This needs the ${requirement.minRole} role or higher.`);
  }
  if (!requirement.stepUp || steppedUpFor(sudo, access, context.now)) return null;
  return stepUpRequired(access.passkeyPolicy);
}

/**
 * A session bound to an org (started through its SSO) stays out of the account's personal routes:
 * the org's identity provider vouches for the person in that org, not for the whole account.
 */
export function personalRouteAllowed(
  boundOrgId: string | null,
  requirement: Extract<AuthRequirement, { kind: 'session' }>,
): boolean {
  return boundOrgId === null || requirement.boundSessions === true;
}

function personalSessionRequired(): Failure {
  return fail(
    'INSUFFICIENT_ROLE',
    "This session was started through an organization's single sign-on and reaches only that organization; sign in to your account for this.",
    { extra: { requirement: 'personal_session' } },
  );
}

/**
 * The 401 for a session token that does not stand. A token that was a real session says how it
 * ended (`reason`: revoked, or expired for the absolute and idle timeouts), so the console can
 * tell "signed out from another device" from "timed out"; only the holder of that token learns
 * it, and nothing is said about a token we never issued or an account that was disabled.
 */
function sessionEnded(reason: string): Failure {
  const ended =
    reason === 'revoked' ? 'revoked' : reason === 'expired' || reason === 'idle' ? 'expired' : null;
  return fail(
    'UNAUTHENTICATED',
    'The session is not valid; sign in again.',
    ended ? { extra: { reason: ended } } : {},
  );
}

const heldMessage =
  'This sign-in came from an unexpected place: confirm it (step up with your second factor, or use the link we mailed you) before continuing.';

/**
 * Whether a session's sudo window counts in an org: inside the window, and for an org that
 * requires passkeys only a window a passkey (of an allowed model) opened.
 */
export function steppedUpFor(
  sudo: { until: Date | null; method: string | null; aaguid: string | null } | null,
  access: OrgAccess,
  now: Date,
): boolean {
  return sudo !== null && inSudo(sudo.until, now) && stepUpSatisfies(access.passkeyPolicy ?? null, sudo);
}

/** The session's sudo fields as `steppedUpFor` reads them. */
export function sudoOf(session: {
  sudo_until: Date | null;
  sudo_method: string | null;
  sudo_aaguid: string | null;
}) {
  return { until: session.sudo_until, method: session.sudo_method, aaguid: session.sudo_aaguid };
}

/** STEP_UP_REQUIRED; for an org that requires passkeys it names the one method that will do. */
export function stepUpRequired(passkeyPolicy?: PasskeyPolicy, message?: string): Failure {
  if (passkeyPolicy) {
    return fail('STEP_UP_REQUIRED', message ?? 'This organization requires a step-up with a passkey.', {
      extra: { methods: ['passkey'] },
    });
  }
  return fail('STEP_UP_REQUIRED', message ?? 'Confirm your identity again (step-up) to continue.');
}
