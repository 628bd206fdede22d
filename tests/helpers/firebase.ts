import { createServer, type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';

/** The host firebase-admin fetches Google's securetoken certificates from. */
const GOOGLE_CERTS_HOST = 'www.googleapis.com';

export interface FakeGoogleCerts {
  projectId: string;
  /** How many times firebase-admin fetched the certificates (proves the real path ran). */
  fetches(): number;
  /** A Firebase Auth ID token as Firebase issues it, signed by the served key unless `signWith` says otherwise. */
  idToken(overrides?: {
    claims?: Record<string, unknown>;
    provider?: string;
    signWith?: 'served' | 'stranger';
    expiresInSeconds?: number;
  }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Serves a local RSA key as Google's x509 securetoken document and routes firebase-admin's HTTPS
 * request for it (through https.globalAgent, as the SDK makes it when no httpAgent is configured)
 * to that server. Everything else firebase-admin does is the production code path: fetching,
 * kid lookup, RS256 signature, issuer, audience, expiry.
 */
export async function fakeGoogleCerts(projectId = 'sf-test-project'): Promise<FakeGoogleCerts> {
  const served = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256');
  const kid = 'local-key-1';
  const pem = await exportSPKI(served.publicKey);
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json; charset=UTF-8');
    res.setHeader('cache-control', 'public, max-age=0');
    res.end(JSON.stringify({ [kid]: pem }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  type CreateConnection = (
    this: unknown,
    options: { host?: string | null; servername?: string | null },
    cb?: unknown,
  ) => Duplex;
  const agent = https.globalAgent as unknown as { createConnection: CreateConnection };
  const original = agent.createConnection;
  agent.createConnection = function (this: unknown, options, cb) {
    if (options.host === GOOGLE_CERTS_HOST || options.servername === GOOGLE_CERTS_HOST) {
      return connect(port, '127.0.0.1');
    }
    return original.call(this, options, cb);
  };

  return {
    projectId,
    fetches: () => fetches,
    async idToken(overrides = {}) {
      const nowSeconds = Math.floor(Date.now() / 1000);
      const uid = `uid-${Math.random().toString(36).slice(2)}`;
      const provider = overrides.provider ?? 'google.com';
      return new SignJWT({
        iss: `https://securetoken.google.com/${projectId}`,
        aud: projectId,
        sub: uid,
        iat: nowSeconds - 5,
        exp: nowSeconds + (overrides.expiresInSeconds ?? 3600),
        email_verified: true,
        auth_time: nowSeconds - 5,
        user_id: uid,
        firebase: { identities: {}, sign_in_provider: provider },
        ...overrides.claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .sign(overrides.signWith === 'stranger' ? stranger.privateKey : served.privateKey);
    },
    async stop() {
      agent.createConnection = original;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An unsigned (`alg: none`) token with the given payload. */
export function unsignedToken(payload: Record<string, unknown>, kid = 'local-key-1'): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', kid, typ: 'JWT' })}.${encode(payload)}.`;
}
