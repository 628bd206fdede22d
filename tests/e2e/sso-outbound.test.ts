import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/oidc.js';
import { createOrg, newUser, nextIp, orgTestEnv, type TestUser } from '../helpers/orgs.js';

/**
 * `PUT /api/orgs/:orgId/sso` makes the server fetch a URL the caller chose. Whatever is (or is not)
 * behind it, the caller learns one thing: it did not work.
 */
const servers: Server[] = [];
const apps: TestApp[] = [];

async function listening(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

const httpServer = (handler: RequestListener) => listening(createHttpServer(handler));

/** A discovery document for `issuer` whose server-side endpoints may point elsewhere. */
function discovery(issuer: string, endpoints: { jwks?: string; token?: string } = {}) {
  return JSON.stringify({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: endpoints.token ?? `${issuer}/token`,
    jwks_uri: endpoints.jwks ?? `${issuer}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  });
}

/** An OIDC-looking server on loopback: answers discovery for its own origin, counts requests. */
async function discoveryServer(
  endpoints: (issuer: string) => { jwks?: string; token?: string } = () => ({}),
) {
  let issuer = '';
  const seen: string[] = [];
  issuer = await httpServer((req, res) => {
    seen.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') res.end(discovery(issuer, endpoints(issuer)));
    else res.end('{"keys":[]}');
  });
  return { issuer, seen };
}

async function ownerWithOrg(app: TestApp): Promise<{ owner: TestUser; orgId: string }> {
  const owner = await newUser(app, 'sso-owner');
  const org = await createOrg(app, owner);
  const stepped = await app.request('POST', '/api/sessions/step-up', {
    token: owner.token,
    body: { password: owner.password },
    headers: { 'x-forwarded-for': nextIp() },
  });
  if (stepped.status !== 200) throw new Error(`step-up failed: ${stepped.text}`);
  owner.token = stepped.body.token;
  return { owner, orgId: org.id };
}

function configure(app: TestApp, owner: TestUser, orgId: string, issuerUrl: string) {
  return app.request('PUT', `/api/orgs/${orgId}/sso`, {
    token: owner.token,
    body: {
      issuerUrl,
      clientId: 'c',
      clientSecret: 's',
      allowedDomains: ['acme.test'],
      defaultRole: 'member',
      passwordLoginAllowed: true,
    },
  });
}

const GENERIC = {
  status: 400,
  body: {
    error: {
      code: 'VALIDATION_FAILED',
      message: 'The identity provider could not be reached.',
      issues: [{ path: 'issuerUrl', message: 'could not be reached' }],
    },
  },
};

afterAll(async () => {
  for (const app of apps) await app.stop();
  for (const server of servers) {
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close();
  }
});

describe('PUT …/sso in embedded mode (loopback allowed)', () => {
  let app: TestApp;
  let owner: TestUser;
  let orgId: string;

  beforeAll(async () => {
    app = await startTestApp({ env: orgTestEnv });
    apps.push(app);
    ({ owner, orgId } = await ownerWithOrg(app));
  }, 120_000);

  it('answers a closed port, an open non-OIDC port and a non-HTTP port identically', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const webPage = await httpServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html>router admin</html>');
    });
    const banner = await listening(createTcpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n')));
    const answers = [];
    for (const issuerUrl of [closed, webPage, banner]) {
      const res = await configure(app, owner, orgId, issuerUrl);
      answers.push({ status: res.status, body: res.body });
    }
    expect(answers).toEqual([GENERIC, GENERIC, GENERIC]);
  });

  it('refuses a discovery document whose JWKS or token endpoint is on another origin, with the same answer', async () => {
    const elsewhere = await discoveryServer();
    const offJwks = await discoveryServer(() => ({ jwks: `${elsewhere.issuer}/jwks` }));
    const offToken = await discoveryServer(() => ({ token: 'http://169.254.169.254/token' }));
    for (const provider of [offJwks, offToken]) {
      const res = await configure(app, owner, orgId, provider.issuer);
      expect({ status: res.status, body: res.body }).toEqual(GENERIC);
    }
    // The other origin was never asked for anything.
    expect(elsewhere.seen).toEqual([]);
    const sso = await app.request('GET', `/api/orgs/${orgId}/sso`, { token: owner.token });
    expect(sso.status).toBe(404);
  });

  it('does not follow a redirect from the issuer to a provider elsewhere', async () => {
    const real = await discoveryServer();
    const redirecting = await httpServer((req, res) => {
      res.writeHead(302, { location: `${real.issuer}${req.url}` }).end();
    });
    const res = await configure(app, owner, orgId, redirecting);
    expect({ status: res.status, body: res.body }).toEqual(GENERIC);
    expect(real.seen).toEqual([]);
  });

  it('still accepts a provider whose endpoints are on its own origin', async () => {
    const provider = await discoveryServer();
    const res = await configure(app, owner, orgId, provider.issuer);
    expect(res.status, res.text).toBe(200);
    expect(provider.seen).toContain('/.well-known/openid-configuration');
  });
});

describe('PUT …/sso with OUTBOUND_ALLOW_PRIVATE=false (production addressing)', () => {
  it('refuses a loopback issuer without sending it a single request, with the same answer', async () => {
    const app = await startTestApp({ env: { ...orgTestEnv, OUTBOUND_ALLOW_PRIVATE: 'false' } });
    apps.push(app);
    const { owner, orgId } = await ownerWithOrg(app);
    const provider = await discoveryServer();
    const res = await configure(app, owner, orgId, provider.issuer);
    expect({ status: res.status, body: res.body }).toEqual(GENERIC);
    expect(provider.seen).toEqual([]);
    expect(app.runtime.platform.metrics.value('outbound_refused')).toBeGreaterThan(0);
  }, 120_000);
});
