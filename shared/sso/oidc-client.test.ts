import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../../tests/helpers/oidc.js';
import { createLogger } from '../log/logger.js';
import { createOutboundFetch, type OutboundFetch } from '../outbound/client.js';
import { oidcConfiguration, verifyIdTokenSignature } from './oidc-client.js';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(() => fake?.stop());

/** The embedded-mode outbound client, recording every path it is asked for. */
function recordingFetch() {
  const outbound = createOutboundFetch({
    allowPrivate: true,
    allowHttp: true,
    logger: createLogger('silent'),
  });
  const paths: string[] = [];
  const fetch: OutboundFetch = (url, init) => {
    paths.push(new URL(String(url)).pathname);
    return outbound(url, init);
  };
  return { fetch, paths };
}

describe('the OIDC client’s requests', () => {
  it('discovery, the token endpoint and the JWKS all go through the outbound client it is given', async () => {
    const { fetch, paths } = recordingFetch();
    const configuration = await oidcConfiguration({
      issuerUrl: fake.url,
      clientId: fake.clientId,
      clientSecret: 'secret',
      allowInsecure: true,
      fetch,
    });
    expect(paths).toEqual(['/.well-known/openid-configuration']);

    await fake.nextIdToken('nonce-1');
    const tokens = await client.genericGrantRequest(configuration, 'authorization_code', {
      code: 'c',
      redirect_uri: 'http://127.0.0.1/cb',
    });
    expect(paths).toContain('/token');

    await verifyIdTokenSignature(configuration, tokens.id_token as string, fetch);
    expect(paths).toContain('/jwks');
  });
});
