import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider from 'oidc-provider';

export interface Listening {
  url: string;
  stop(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  server: Server;
  url: string;
}> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A free port on 127.0.0.1 (so APP_URL, and with it the redirect URI, is known before the app starts). */
export async function freePort(): Promise<number> {
  const { server, url } = await listen(() => undefined);
  await close(server);
  return Number(new URL(url).port);
}

export interface TestUserClaims {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
}

export interface InProcessProvider extends Listening {
  clientId: string;
  clientSecret: string;
  /** The account the next login signs in as (interactions are completed programmatically). */
  user: TestUserClaims;
}

/**
 * oidc-provider (a certified OpenID Provider) on 127.0.0.1 with one confidential client whose
 * redirect URI is the test app's callback. Its login and consent prompts are answered in code:
 * any request to /interaction/:uid signs in as `user` and grants `openid email profile`.
 */
export async function startOidcProvider(redirectUri: string): Promise<InProcessProvider> {
  const clientId = 'sessionforge-test';
  const clientSecret = 'a-client-secret-for-tests-only-0123456789';
  const state: { user: TestUserClaims } = {
    user: { sub: 'idp-user-1', email: 'ada@acme.test', email_verified: true, name: 'Ada' },
  };
  let provider: Provider | undefined;
  const { server, url } = await listen((req, res) => {
    if (!provider) return;
    if (req.url?.startsWith('/interaction/')) {
      void (async () => {
        const details = await provider!.interactionDetails(req, res);
        const accountId = state.user.sub;
        const grant = new provider!.Grant({ accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope('openid email profile');
        const grantId = await grant.save();
        await provider!.interactionFinished(
          req,
          res,
          { login: { accountId }, consent: { grantId } },
          { mergeWithLastSubmission: false },
        );
      })().catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    provider.callback()(req, res);
  });
  provider = new Provider(url, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ ...state.user, sub }),
    }),
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    pkce: { required: () => true },
  });
  return {
    url,
    clientId,
    clientSecret,
    get user() {
      return state.user;
    },
    set user(next: TestUserClaims) {
      state.user = next;
    },
    stop: () => close(server),
  };
}

/** A minimal cookie jar for driving redirects by hand (names only; paths ignored). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

/** Follows the provider's redirects (with its cookies) until it redirects to `redirectUri`; returns that URL. */
export async function authorizeAtProvider(authorizationUrl: string, redirectUri: string): Promise<string> {
  const jar = new CookieJar();
  let next = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    if (next.startsWith(redirectUri)) return next;
    const response = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get('location');
    if (!location) throw new Error(`provider answered ${response.status}: ${await response.text()}`);
    next = new URL(location, next).href;
  }
  throw new Error('too many redirects at the provider');
}

export type IdTokenTweak = {
  alg?: 'RS256' | 'none';
  claims?: Record<string, unknown>;
  signWith?: 'served' | 'stranger';
};

export interface FakeProvider extends Listening {
  clientId: string;
  /** Sets the ID token the token endpoint answers next (built from the authorization request's nonce). */
  nextIdToken(nonce: string, tweak?: IdTokenTweak): Promise<void>;
}

/**
 * A hand-rolled provider whose token endpoint answers whatever ID token a test sets: for the
 * attacks a certified provider never produces (alg none, wrong audience, expired, wrong nonce).
 * Discovery and JWKS are real, so the checks that refuse them are openid-client's, through our code.
 */
export async function startFakeProvider(): Promise<FakeProvider> {
  const served = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(served.publicKey)), kid: 'fake-1', alg: 'RS256', use: 'sig' };
  const clientId = 'fake-client';
  let idToken = '';
  let issuer = '';
  const { server, url } = await listen((req, res) => {
    res.setHeader('content-type', 'application/json');
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/.well-known/openid-configuration') {
      res.end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
        }),
      );
    } else if (path === '/jwks') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (path === '/token' && req.method === 'POST') {
      req.resume();
      req.on('end', () =>
        res.end(
          JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', expires_in: 60, id_token: idToken }),
        ),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  issuer = url;
  return {
    url,
    clientId,
    async nextIdToken(nonce, tweak = {}) {
      const nowSeconds = Math.floor(Date.now() / 1000);
      const payload = {
        iss: issuer,
        aud: clientId,
        sub: 'fake-user-1',
        iat: nowSeconds,
        exp: nowSeconds + 300,
        nonce,
        email: 'eve@fake.test',
        email_verified: true,
        ...tweak.claims,
      };
      if (tweak.alg === 'none') {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        idToken = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
        return;
      }
      idToken = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: 'fake-1' })
        .sign(tweak.signWith === 'stranger' ? stranger.privateKey : served.privateKey);
    },
    stop: () => close(server),
  };
}
