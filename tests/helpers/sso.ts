import { type ApiResponse, startTestApp, type TestApp } from './app.js';
import { authorizeAtProvider, freePort, type InProcessProvider, startOidcProvider } from './oidc.js';
import { createOrg, newUser, nextIp, orgTestEnv, type TestUser } from './orgs.js';
import '../../shared/audit/tables.js';

export const STATE_COOKIE = '__Host-sf_sso';
export const SESSION_COOKIE = '__Host-sf_session';

export function cookieOf(res: { headers: Headers }, name: string): string | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

/** Step-up with the password; the session is replaced, so `user.token` becomes the new token. */
export async function stepUp(app: TestApp, user: Pick<TestUser, 'token' | 'password'>): Promise<void> {
  const res = await app.request('POST', '/api/sessions/step-up', {
    token: user.token,
    body: { password: user.password },
    headers: { 'x-forwarded-for': nextIp() },
  });
  if (res.status !== 200) throw new Error(`step-up failed: ${res.text}`);
  user.token = res.body.token;
}

export function configureSso(app: TestApp, token: string, orgId: string, body: Record<string, unknown>) {
  return app.request('PUT', `/api/orgs/${orgId}/sso`, { token, body });
}

/** Settings pointing at the in-process provider. */
export function providerSettings(idp: InProcessProvider, overrides: Record<string, unknown> = {}) {
  return {
    issuerUrl: idp.url,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    allowedDomains: ['acme.test'],
    defaultRole: 'member',
    passwordLoginAllowed: true,
    ...overrides,
  };
}

export async function ssoStart(app: TestApp, slug: string, returnTo?: string) {
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
  const res = await app.request('GET', `/api/login/sso/${slug}${query}`, {
    headers: { 'x-forwarded-for': nextIp() },
  });
  return { res, location: res.headers.get('location') ?? '', stateCookie: cookieOf(res, STATE_COOKIE) };
}

/** The browser coming back from the provider: the state cookie and, if given, the session cookie. */
export function ssoCallback(
  app: TestApp,
  callbackUrl: string,
  stateCookie: string | undefined,
  sessionToken?: string,
): Promise<ApiResponse> {
  const url = new URL(callbackUrl);
  const cookies = [
    ...(stateCookie ? [`${STATE_COOKIE}=${stateCookie}`] : []),
    ...(sessionToken ? [`${SESSION_COOKIE}=${sessionToken}`] : []),
  ];
  return app.request('GET', `${url.pathname}${url.search}`, {
    headers: { 'x-forwarded-for': nextIp(), ...(cookies.length ? { cookie: cookies.join('; ') } : {}) },
  });
}

/** A whole SSO sign-in at `slug` as the provider's current user: the callback's answer. */
export async function ssoLogin(app: TestApp, slug: string, redirectUri: string): Promise<ApiResponse> {
  const started = await ssoStart(app, slug);
  if (started.res.status !== 302) throw new Error(`sso start failed: ${started.res.text}`);
  return ssoCallback(app, await authorizeAtProvider(started.location, redirectUri), started.stateCookie);
}

/** The session token an SSO sign-in set, or undefined when it set none. */
export function sessionOf(res: ApiResponse): string | undefined {
  return cookieOf(res, SESSION_COOKIE);
}

/**
 * "Link your org identity" from `token`'s session (which must be stepped up): the start, the
 * provider, and the callback carrying `callbackToken` (by default the same session; null: none).
 */
export async function linkIdentity(
  app: TestApp,
  token: string,
  orgId: string,
  redirectUri: string,
  callbackToken: string | null = token,
): Promise<{ start: ApiResponse; done?: ApiResponse }> {
  const start = await app.request('POST', `/api/orgs/${orgId}/sso/link`, { token, body: {} });
  if (start.status !== 200) return { start };
  const callbackUrl = await authorizeAtProvider(start.body.authorizationUrl, redirectUri);
  const done = await ssoCallback(app, callbackUrl, cookieOf(start, STATE_COOKIE), callbackToken ?? undefined);
  return { start, done };
}

/** The org's audit rows, oldest first, metadata flattened beside the action. */
export async function ssoAudit(app: TestApp, orgId: string) {
  const rows = await app.runtime.platform.db
    .selectFrom('audit_logs')
    .select(['action', 'metadata', 'actor_id'])
    .where('org_id', '=', orgId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    action: r.action,
    actorId: r.actor_id,
    ...(r.metadata as Record<string, unknown>),
  }));
}

/** The org's identity links as stored. */
export function identitiesOf(app: TestApp, orgId: string) {
  return app.runtime.platform.db
    .selectFrom('sso_identities')
    .select(['issuer', 'subject', 'user_id'])
    .where('org_id', '=', orgId)
    .execute();
}

/**
 * A runtime on a free port beside an in-process OIDC provider, and an org whose owner (stepped up)
 * configured single sign-on with it. The caller stops `app` and `idp`.
 */
export async function orgWithOidcSso(ownerLabel: string): Promise<{
  app: TestApp;
  idp: InProcessProvider;
  redirectUri: string;
  owner: TestUser;
  org: { id: string; slug: string };
}> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const redirectUri = `${appUrl}/api/login/sso/callback`;
  const idp = await startOidcProvider(redirectUri);
  const app = await startTestApp({ env: { ...orgTestEnv, PORT: String(port), APP_URL: appUrl } });
  const owner = await newUser(app, ownerLabel);
  const org = await createOrg(app, owner);
  await stepUp(app, owner);
  const configured = await configureSso(app, owner.token, org.id, providerSettings(idp));
  if (configured.status !== 200) throw new Error(`configure failed: ${configured.text}`);
  return { app, idp, redirectUri, owner, org };
}
