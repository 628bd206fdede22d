import { createRemoteJWKSet, customFetch as joseCustomFetch, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { OutboundError, type OutboundFetch } from '../outbound/client.js';

/** JWS algorithms we accept for ID tokens: asymmetric only (never `none`, never HS* with the client secret). */
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/;

/**
 * The one ID-token algorithm we pin for a provider: RS256 when it advertises it (the OIDC default),
 * else the first asymmetric one it advertises; null when it advertises none we accept.
 */
export function pinnedIdTokenAlg(advertised: readonly string[] | undefined): string | null {
  const usable = (advertised ?? ['RS256']).filter((alg) => ASYMMETRIC.test(alg));
  if (usable.includes('RS256')) return 'RS256';
  return usable[0] ?? null;
}

export interface OidcClientSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** Plain-http loopback issuers (local runs and tests only). */
  allowInsecure: boolean;
  /** The outbound client every request to the provider goes through (shared/outbound). */
  fetch: OutboundFetch;
}

/** openid-client's fetch hook over the outbound client; its request bodies are strings or forms. */
function openidFetch(fetch: OutboundFetch): client.CustomFetch {
  return async (url, options) => {
    const { body } = options;
    if (body instanceof ReadableStream) throw new OutboundError('streamed request bodies are not sent');
    return await fetch(url, {
      method: options.method,
      headers: options.headers,
      body: body instanceof ArrayBuffer ? new Uint8Array(body) : (body ?? null),
      signal: options.signal ?? null,
    });
  };
}

/**
 * The endpoints we call server to server must live on the issuer's own origin: a discovery
 * document cannot send our requests (and the client secret) to another host.
 */
function offOriginEndpoint(server: client.ServerMetadata): string | null {
  const origin = new URL(server.issuer).origin;
  for (const field of ['jwks_uri', 'token_endpoint', 'userinfo_endpoint'] as const) {
    const value = server[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || URL.parse(value)?.origin !== origin) return field;
  }
  return null;
}

/**
 * Discovers the provider and builds an openid-client Configuration that pins the issuer (discovery
 * refuses a document whose `issuer` differs from the URL), the client id as audience, and one
 * advertised asymmetric ID-token algorithm.
 */
export async function oidcConfiguration(settings: OidcClientSettings): Promise<client.Configuration> {
  const discovered = await client.discovery(
    new URL(settings.issuerUrl),
    settings.clientId,
    undefined,
    undefined,
    {
      [client.customFetch]: openidFetch(settings.fetch),
      ...(settings.allowInsecure ? { execute: [client.allowInsecureRequests] } : {}),
    },
  );
  const server = discovered.serverMetadata();
  const offOrigin = offOriginEndpoint(server);
  if (offOrigin) throw new Error(`the provider's ${offOrigin} is not on the issuer's origin`);
  const alg = pinnedIdTokenAlg(server.id_token_signing_alg_values_supported);
  if (!alg) throw new Error('the provider advertises no asymmetric ID token algorithm');
  const configuration = new client.Configuration(
    { ...server },
    settings.clientId,
    { id_token_signed_response_alg: alg },
    client.ClientSecretPost(settings.clientSecret),
  );
  if (settings.allowInsecure) client.allowInsecureRequests(configuration);
  // Token and userinfo requests go through the same client as discovery.
  configuration[client.customFetch] = openidFetch(settings.fetch);
  return configuration;
}

/** A short message for logs and audit metadata, without tokens or secrets. */
export function oidcErrorReason(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `provider: ${error.error}`;
  if (error instanceof client.AuthorizationResponseError) return `provider: ${error.error}`;
  if (error instanceof OutboundError) return `outbound: ${error.reason}`;
  if (error instanceof Error && error.cause instanceof OutboundError)
    return `outbound: ${error.cause.reason}`;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return `${typeof code === 'string' ? `${code}: ` : ''}${message}`.slice(0, 200);
}

/** One key set per JWKS URL, per outbound client (embedded and production settings differ). */
const keySets = new WeakMap<OutboundFetch, Map<string, ReturnType<typeof createRemoteJWKSet>>>();

/**
 * openid-client checks the ID token's claims and algorithm but, as OIDC Core 3.1.3.7 permits for
 * tokens from the token endpoint, not its signature. We verify it too, against the provider's
 * JWKS with the pinned algorithm only, so a token endpoint answer cannot carry a forged token.
 */
export async function verifyIdTokenSignature(
  configuration: client.Configuration,
  idToken: string,
  fetch: OutboundFetch,
): Promise<void> {
  const server = configuration.serverMetadata();
  const alg = configuration.clientMetadata().id_token_signed_response_alg;
  if (!server.jwks_uri || typeof alg !== 'string') throw new Error('the provider publishes no JWKS');
  let forClient = keySets.get(fetch);
  if (!forClient) {
    forClient = new Map();
    keySets.set(fetch, forClient);
  }
  let keys = forClient.get(server.jwks_uri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(server.jwks_uri), { [joseCustomFetch]: fetch });
    forClient.set(server.jwks_uri, keys);
  }
  await jwtVerify(idToken, keys, {
    algorithms: [alg],
    issuer: server.issuer,
    audience: configuration.clientMetadata().client_id,
    // The claims' times were checked by openid-client against the same clock; this is the signature.
    clockTolerance: 30,
  });
}
