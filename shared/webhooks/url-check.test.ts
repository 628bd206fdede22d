import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import type { Resolver } from '../outbound/client.js';
import { checkEndpointUrl } from './url-check.js';

/** A hostile DNS: names map to whatever the test says, nothing is ever asked of a real resolver. */
const dns: Record<string, string[]> = {
  'hooks.example.com': ['93.184.215.14'],
  'inside.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.215.14', '192.168.1.10'],
  'metadata.example.com': ['169.254.169.254'],
};
const resolve: Resolver = async (name) => (dns[name] ?? []).map((address) => ({ address, family: 4 }));
const production = { allowPrivate: false, allowHttp: false, resolve };
const embedded = { allowPrivate: true, allowHttp: true, resolve };

describe('endpoint URLs when private addresses are not allowed (production)', () => {
  const refused = [
    'https://127.0.0.1/hook',
    'https://10.0.0.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[fd00::1]/hook',
    'https://[::ffff:10.0.0.1]/hook',
    'https://[::ffff:7f00:1]/hook',
    'https://inside.example.com/hook',
    'https://mixed.example.com/hook',
  ];
  for (const url of refused) {
    it(`refuses ${url}`, async () => {
      expect(await checkEndpointUrl(url, production)).toMatch(/private, loopback, link-local or a metadata/);
    });
  }

  it('accepts a public https host, refuses plain http and names that do not resolve', async () => {
    expect(await checkEndpointUrl('https://hooks.example.com/x', production)).toBeNull();
    expect(await checkEndpointUrl('http://hooks.example.com/x', production)).toMatch(/https/);
    expect(await checkEndpointUrl('https://nowhere.example.com/x', production)).toMatch(/does not resolve/);
  });
});

describe('endpoint URLs in embedded mode (WEBHOOK_ALLOW_PRIVATE=true)', () => {
  it('lets loopback and private ranges through, never the metadata service', async () => {
    expect(await checkEndpointUrl('http://127.0.0.1:8080/hook', embedded)).toBeNull();
    expect(await checkEndpointUrl('https://inside.example.com/hook', embedded)).toBeNull();
    expect(await checkEndpointUrl('http://169.254.169.254/', embedded)).toMatch(/metadata/);
    expect(await checkEndpointUrl('https://metadata.example.com/', embedded)).toMatch(/metadata/);
  });
});

describe('WEBHOOK_ALLOW_PRIVATE', () => {
  it("defaults to OUTBOUND_ALLOW_PRIVATE's value (true in embedded mode) and can be set on its own", () => {
    expect(loadConfig({}).webhooks.allowPrivate).toBe(true);
    expect(loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'false' }).webhooks.allowPrivate).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'false' }).webhooks.allowPrivate).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'false' }).outbound.allowPrivate).toBe(true);
    expect(
      loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'false', WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate,
    ).toBe(true);
    expect(loadConfig({}).webhooks.concurrency).toBe(4);
  });
});
