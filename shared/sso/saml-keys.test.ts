import { describe, expect, it } from 'vitest';
import { b64, makeKeyPair, signedAnswer } from '../../tests/helpers/saml-idp.js';
import { validateSamlResponse } from './saml.js';
import { forgetParsedKeys, parsedKeyCount } from './saml-keys.js';
import { samlSpUrls } from './saml-urls.js';
import type { SsoConfig } from './store.js';

const APP_URL = 'https://sessionforge.example';
const IDP = 'https://idp.corp.test/saml';
const REQUEST = '_keysrequest000000000000000000';
const sp = samlSpUrls(APP_URL, 'keys');
const ours = makeKeyPair('keys-idp');
const rotated = makeKeyPair('keys-idp-rotated');

function config(certs: string[]): SsoConfig {
  return {
    orgId: '00000000-0000-4000-8000-00000000000a',
    orgSlug: 'keys',
    issuerUrl: IDP,
    clientId: '',
    clientSecretSealed: '',
    allowedDomains: ['corp.test'],
    defaultRole: 'member',
    passwordLoginAllowed: true,
    protocol: 'saml',
    saml: { ssoUrl: 'https://idp.corp.test/sso', certs },
    updatedAt: new Date(),
  };
}

function answerSignedBy(keys: ReturnType<typeof makeKeyPair>): string {
  return signedAnswer({
    keys,
    issuer: IDP,
    email: 'ann@corp.test',
    sp,
    requestId: REQUEST,
    validMinutes: 10,
  });
}

describe('IdP public keys parsed once per certificate', () => {
  it('a certificate is parsed once and the same key serves every later answer', async () => {
    forgetParsedKeys();
    const cfg = config([ours.certBase64]);
    const answer = answerSignedBy(ours);
    expect((await validateSamlResponse(cfg, APP_URL, REQUEST, answer)).ok).toBe(true);
    expect(parsedKeyCount()).toBe(1);
    expect((await validateSamlResponse(cfg, APP_URL, REQUEST, answer)).ok).toBe(true);
    expect(parsedKeyCount()).toBe(1);
  });

  it('a key held for one configuration never vouches for another: rotation in and out', async () => {
    forgetParsedKeys();
    const before = config([ours.certBase64]);
    const after = config([rotated.certBase64]);
    const oldAnswer = answerSignedBy(ours);
    const newAnswer = answerSignedBy(rotated);
    expect((await validateSamlResponse(before, APP_URL, REQUEST, oldAnswer)).ok).toBe(true);
    // With the old key parsed and held, an answer signed by the new key is still refused by the old configuration…
    expect(await validateSamlResponse(before, APP_URL, REQUEST, newAnswer)).toMatchObject({
      ok: false,
      reason: 'assertion_rejected',
    });
    // …and once the configuration names only the new certificate, the old key signs nothing.
    expect((await validateSamlResponse(after, APP_URL, REQUEST, newAnswer)).ok).toBe(true);
    expect(await validateSamlResponse(after, APP_URL, REQUEST, oldAnswer)).toMatchObject({
      ok: false,
      reason: 'assertion_rejected',
    });
    expect(parsedKeyCount()).toBe(2);
  });

  it('a tampered answer fails with the parsed key exactly as with the certificate text', async () => {
    const cfg = config([ours.certBase64]);
    const xml = Buffer.from(answerSignedBy(ours), 'base64').toString('utf8');
    const tampered = b64(xml.replace('ann@corp.test', 'eve@corp.test'));
    expect(await validateSamlResponse(cfg, APP_URL, REQUEST, tampered)).toMatchObject({
      ok: false,
      reason: 'assertion_rejected',
    });
  });
});
