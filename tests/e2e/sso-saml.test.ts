import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyBytes } from '../../shared/secrets/secrets.js';
import { signState } from '../../shared/sso/state-cookie.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/oidc.js';
import { createOrg, newUser, nextIp, orgTestEnv, type TestUser } from '../helpers/orgs.js';
import {
  type AssertionInput,
  assertionXml,
  authnRequestOf,
  b64,
  idpMetadata,
  type KeyPair,
  makeKeyPair,
  requestIdOf,
  responseXml,
  signAssertion,
} from '../helpers/saml-idp.js';
import { cookieOf, identitiesOf, sessionOf, ssoAudit, stepUp } from '../helpers/sso.js';

/**
 * SAML 2.0 sign-in over HTTP against the local runtime, with an in-process IdP: xml-crypto signs
 * response templates with a key whose certificate the org uploaded in its IdP metadata. Each
 * attack replays a real answer with one thing wrong, and must end without a session.
 */
const SAML_COOKIE = '__Host-sf_saml';
const IDP = 'https://idp.corp.test/saml';
let app: TestApp;
let appUrl: string;
let acsUrl: string;
let idpKeys: KeyPair;
let foreignKeys: KeyPair;
let counter = 0;

beforeAll(async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  acsUrl = `${appUrl}/api/login/saml/acs`;
  idpKeys = makeKeyPair('corp-idp');
  foreignKeys = makeKeyPair('someone-else');
  app = await startTestApp({ env: { ...orgTestEnv, PORT: String(port), APP_URL: appUrl } });
}, 240_000);

afterAll(async () => {
  await app?.stop();
});

const unique = (label: string) => `${label}${++counter}x${Date.now()}`;

async function samlOrg(owner: TestUser, overrides: Record<string, unknown> = {}) {
  const org = await createOrg(app, owner);
  await stepUp(app, owner);
  const put = await app.request('PUT', `/api/orgs/${org.id}/sso`, {
    token: owner.token,
    body: {
      protocol: 'saml',
      idpMetadataXml: idpMetadata(IDP, 'https://idp.corp.test/sso', idpKeys.certBase64),
      allowedDomains: ['corp.test'],
      defaultRole: 'member',
      passwordLoginAllowed: true,
      ...overrides,
    },
  });
  expect(put.status, put.text).toBe(200);
  return { ...org, entityId: put.body.saml.entityId as string };
}

/** The browser's start at our SSO URL: the IdP redirect, its request id and the state cookie. */
async function start(slug: string) {
  const res = await app.request('GET', `/api/login/sso/${slug}`, {
    headers: { 'x-forwarded-for': nextIp() },
  });
  expect(res.status, res.text).toBe(302);
  const location = res.headers.get('location') ?? '';
  return { location, requestId: requestIdOf(location), cookie: cookieOf(res, SAML_COOKIE) };
}

function post(samlResponse: string, cookie: string | undefined) {
  return app.request('POST', '/api/login/saml/acs', {
    raw: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: '' }).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': nextIp(),
      ...(cookie ? { cookie: `${SAML_COOKIE}=${cookie}` } : {}),
    },
  });
}

/** A correct answer to `requestId`, with `tweak` applied to the assertion's fields. */
function answer(
  org: { entityId: string },
  requestId: string | undefined,
  email: string,
  tweak: Partial<AssertionInput> = {},
) {
  const now = Date.now();
  const fields: AssertionInput = {
    issuer: IDP,
    email,
    audience: org.entityId,
    recipient: acsUrl,
    inResponseTo: requestId,
    notBefore: new Date(now - 60_000),
    notOnOrAfter: new Date(now + 5 * 60_000),
    ...tweak,
  };
  return { fields, xml: assertionXml(fields) };
}

function respond(
  requestId: string | undefined,
  assertion: string,
  extra: { destination?: string; extensions?: string } = {},
) {
  return b64(
    responseXml({
      issuer: IDP,
      destination: extra.destination ?? acsUrl,
      inResponseTo: requestId,
      assertion,
      extensions: extra.extensions,
    }),
  );
}

async function expectRefused(res: Awaited<ReturnType<typeof post>>, orgId: string, reason: string) {
  expect([res.status, res.body.error?.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  expect(sessionOf(res)).toBeUndefined();
  expect((await ssoAudit(app, orgId)).at(-1)).toMatchObject({
    action: 'sso.login',
    outcome: 'refused',
    reason,
  });
}

describe('SAML settings and SP metadata', () => {
  it('an owner uploads IdP metadata; our SP metadata names the entity ID and the POST ACS', async () => {
    const owner = await newUser(app, 'saml-owner');
    const org = await samlOrg(owner);
    const view = await app.request('GET', `/api/orgs/${org.id}/sso`, { token: owner.token });
    expect(view.body).toMatchObject({
      protocol: 'saml',
      saml: {
        entityId: `${appUrl}/api/login/saml/${org.slug}/metadata`,
        acsUrl,
        idpEntityId: IDP,
        idpSsoUrl: 'https://idp.corp.test/sso',
      },
    });
    const metadata = await app.request('GET', `/api/login/saml/${org.slug}/metadata`);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toContain('application/samlmetadata+xml');
    expect(metadata.text).toContain(`entityID="${org.entityId}"`);
    expect(metadata.text).toContain(`Location="${acsUrl}"`);
    expect(metadata.text).toContain('WantAssertionsSigned="true"');
  });

  it('metadata without a signing certificate, with a DOCTYPE, or over plain http is refused', async () => {
    const owner = await newUser(app, 'saml-bad-meta');
    const org = await createOrg(app, owner);
    await stepUp(app, owner);
    const put = (idpMetadataXml: string) =>
      app.request('PUT', `/api/orgs/${org.id}/sso`, {
        token: owner.token,
        body: {
          protocol: 'saml',
          idpMetadataXml,
          allowedDomains: ['corp.test'],
          defaultRole: 'member',
          passwordLoginAllowed: true,
        },
      });
    const good = idpMetadata(IDP, 'https://idp.corp.test/sso', idpKeys.certBase64);
    for (const bad of [
      good.replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, ''),
      `<!DOCTYPE x [<!ENTITY e "x">]>${good.replace('<?xml version="1.0"?>', '')}`,
      good.replace('https://idp.corp.test/sso"', 'http://idp.corp.test/sso"'),
      'not xml at all',
    ]) {
      const res = await put(bad);
      expect([res.status, res.body.error.code], bad.slice(0, 60)).toEqual([400, 'VALIDATION_FAILED']);
    }
  });
});

describe('SAML sign-in', () => {
  it('a signed answer to our request signs in a new person with a session bound to the org, once', async () => {
    const owner = await newUser(app, 'saml-happy');
    const org = await samlOrg(owner);
    const started = await start(org.slug);
    expect(started.location.startsWith('https://idp.corp.test/sso?')).toBe(true);
    expect(authnRequestOf(started.location)).toContain(`AssertionConsumerServiceURL="${acsUrl}"`);
    const email = `${unique('ann')}@corp.test`;
    const { xml } = answer(org, started.requestId, email);
    const samlResponse = respond(started.requestId, signAssertion(xml, idpKeys));

    const res = await post(samlResponse, started.cookie);
    expect(res.status, JSON.stringify((await ssoAudit(app, org.id)).at(-1))).toBe(302);
    expect(res.headers.get('location')).toBe(`${appUrl}/`);
    const token = sessionOf(res) ?? '';
    const current = await app.request('GET', '/api/sessions/current', { token });
    expect(current.body.user.email).toBe(email);
    const members = await app.request('GET', `/api/orgs/${org.id}/members`, { token });
    expect(members.status, members.text).toBe(200);
    // Bound to the org: personal routes refuse it.
    expect((await app.request('GET', '/api/accounts/activity', { token })).status).toBe(403);
    expect(await identitiesOf(app, org.id)).toEqual([
      expect.objectContaining({ issuer: IDP, subject: email }),
    ]);
    expect((await ssoAudit(app, org.id)).at(-1)).toMatchObject({ action: 'sso.login', outcome: 'succeeded' });

    // The same answer again, with the same cookie: the request is spent.
    await expectRefused(await post(samlResponse, started.cookie), org.id, 'request_used');
  });

  it('a replayed assertion is refused even inside a fresh sign-in', async () => {
    const owner = await newUser(app, 'saml-replay');
    const org = await samlOrg(owner);
    const first = await start(org.slug);
    const email = `${unique('bob')}@corp.test`;
    const id = `_a${unique('fixed')}`;
    const { xml } = answer(org, first.requestId, email, { id });
    const signed = signAssertion(xml, idpKeys);
    expect((await post(respond(first.requestId, signed), first.cookie)).status).toBe(302);
    // An attacker who captured the signed assertion starts their own sign-in and wraps it anew.
    const second = await start(org.slug);
    const reused = await post(respond(second.requestId, signed), second.cookie);
    expect(reused.status).toBe(401);
    expect(sessionOf(reused)).toBeUndefined();
    // A fresh assertion with the same ID (signed for the new request) is still a replayed ID.
    const third = await start(org.slug);
    const sameId = signAssertion(answer(org, third.requestId, email, { id }).xml, idpKeys);
    await expectRefused(
      await post(respond(third.requestId, sameId), third.cookie),
      org.id,
      'assertion_replayed',
    );
  });

  it('an unsigned assertion is refused', async () => {
    const owner = await newUser(app, 'saml-unsigned');
    const org = await samlOrg(owner);
    const s = await start(org.slug);
    const { xml } = answer(org, s.requestId, `${unique('u')}@corp.test`);
    await expectRefused(await post(respond(s.requestId, xml), s.cookie), org.id, 'assertion_rejected');
  });

  it('a signature over another element (wrapping) does not vouch for the assertion that is read', async () => {
    const owner = await newUser(app, 'saml-wrap');
    const org = await samlOrg(owner);
    const s = await start(org.slug);
    const genuine = signAssertion(answer(org, s.requestId, `${unique('real')}@corp.test`).xml, idpKeys);
    const signature = /<(?:ds:)?Signature[\s\S]*<\/(?:ds:)?Signature>/.exec(genuine)?.[0] ?? '';
    expect(signature).not.toBe('');
    // The evil assertion carries the genuine signature (whose reference points at the genuine
    // assertion, hidden in Extensions) and names the owner.
    const evil = answer(org, s.requestId, owner.email).xml.replace(
      '</saml:Issuer>',
      `</saml:Issuer>${signature}`,
    );
    const wrapped = respond(s.requestId, evil, { extensions: genuine });
    await expectRefused(await post(wrapped, s.cookie), org.id, 'assertion_rejected');
    // And the genuine one next to an evil twin: two assertions are never read.
    const s2 = await start(org.slug);
    const twin = signAssertion(answer(org, s2.requestId, `${unique('real')}@corp.test`).xml, idpKeys);
    const both = respond(s2.requestId, `${answer(org, s2.requestId, owner.email).xml}${twin}`);
    await expectRefused(await post(both, s2.cookie), org.id, 'assertion_rejected');
  });

  it('an assertion signed by a key not in the uploaded metadata is refused', async () => {
    const owner = await newUser(app, 'saml-foreign');
    const org = await samlOrg(owner);
    const s = await start(org.slug);
    const forged = signAssertion(answer(org, s.requestId, `${unique('f')}@corp.test`).xml, foreignKeys);
    await expectRefused(await post(respond(s.requestId, forged), s.cookie), org.id, 'assertion_rejected');
  });

  it('RSA-SHA1 signatures are refused', async () => {
    const owner = await newUser(app, 'saml-sha1');
    const org = await samlOrg(owner);
    const s = await start(org.slug);
    const weak = signAssertion(answer(org, s.requestId, `${unique('w')}@corp.test`).xml, idpKeys, 'sha1');
    await expectRefused(await post(respond(s.requestId, weak), s.cookie), org.id, 'weak_algorithm');
  });

  it('a wrong audience, recipient or destination is refused', async () => {
    const owner = await newUser(app, 'saml-aud');
    const org = await samlOrg(owner);
    const other = await samlOrg(owner);
    const cases: Array<[Partial<AssertionInput>, { destination?: string }, string]> = [
      [{ audience: other.entityId }, {}, 'assertion_rejected'],
      [{ recipient: `${appUrl}/elsewhere` }, {}, 'wrong_recipient'],
      [{}, { destination: `${appUrl}/elsewhere` }, 'wrong_destination'],
    ];
    for (const [tweak, extra, reason] of cases) {
      const s = await start(org.slug);
      const signed = signAssertion(answer(org, s.requestId, `${unique('a')}@corp.test`, tweak).xml, idpKeys);
      await expectRefused(await post(respond(s.requestId, signed, extra), s.cookie), org.id, reason);
    }
  });

  it('an expired assertion is refused; one inside the three minutes of skew passes', async () => {
    const owner = await newUser(app, 'saml-time');
    const org = await samlOrg(owner);
    const now = Date.now();
    const expired = await start(org.slug);
    const old = signAssertion(
      answer(org, expired.requestId, `${unique('t')}@corp.test`, {
        notBefore: new Date(now - 20 * 60_000),
        notOnOrAfter: new Date(now - 4 * 60_000),
      }).xml,
      idpKeys,
    );
    await expectRefused(
      await post(respond(expired.requestId, old), expired.cookie),
      org.id,
      'assertion_rejected',
    );
    const future = await start(org.slug);
    const early = signAssertion(
      answer(org, future.requestId, `${unique('t')}@corp.test`, { notBefore: new Date(now + 10 * 60_000) })
        .xml,
      idpKeys,
    );
    await expectRefused(
      await post(respond(future.requestId, early), future.cookie),
      org.id,
      'assertion_rejected',
    );
    const skewed = await start(org.slug);
    const justExpired = signAssertion(
      answer(org, skewed.requestId, `${unique('t')}@corp.test`, { notOnOrAfter: new Date(now - 60_000) }).xml,
      idpKeys,
    );
    expect((await post(respond(skewed.requestId, justExpired), skewed.cookie)).status).toBe(302);
  });

  it('unsolicited answers (no InResponseTo, another browser, another request) are refused', async () => {
    const owner = await newUser(app, 'saml-unsolicited');
    const org = await samlOrg(owner);
    const email = `${unique('x')}@corp.test`;
    const s = await start(org.slug);
    const noIrt = signAssertion(answer(org, undefined, email).xml, idpKeys);
    await expectRefused(await post(respond(undefined, noIrt), s.cookie), org.id, 'unsolicited');
    // IdP-initiated: no state cookie at all.
    const noCookie = await post(respond(undefined, noIrt), undefined);
    expect([noCookie.status, noCookie.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    // An answer to someone else's request, posted with this browser's cookie.
    const victim = await start(org.slug);
    const theirs = signAssertion(answer(org, victim.requestId, email).xml, idpKeys);
    await expectRefused(await post(respond(victim.requestId, theirs), s.cookie), org.id, 'unsolicited');
    // A tampered cookie is no cookie.
    const tampered = await post(respond(victim.requestId, theirs), `${victim.cookie}x`);
    expect([tampered.status, tampered.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('an existing account is never signed in by the IdP’s word alone', async () => {
    const owner = await newUser(app, 'saml-takeover');
    const org = await samlOrg(owner, { allowedDomains: ['example.com'] });
    const s = await start(org.slug);
    const signed = signAssertion(answer(org, s.requestId, owner.email).xml, idpKeys);
    const res = await post(respond(s.requestId, signed), s.cookie);
    expect([res.status, res.body.error.requirement]).toEqual([401, 'link_identity']);
    expect(sessionOf(res)).toBeUndefined();
  });

  it('the ACS takes only a urlencoded form', async () => {
    const res = await app.request('POST', '/api/login/saml/acs', {
      body: { SAMLResponse: 'x' },
      headers: { 'x-forwarded-for': nextIp() },
    });
    expect([res.status, res.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it("an OIDC callback for an org now on SAML stops before any discovery of the IdP's entity ID", async () => {
    const owner = await newUser(app, 'saml-oidc-left');
    const org = await samlOrg(owner);
    const key = await keyBytes(app.runtime.platform.secrets, 'oauth-state-key');
    const state = 'a'.repeat(32);
    const cookie = signState(
      key,
      { orgId: org.id, state, nonce: 'n'.repeat(32), codeVerifier: 'v'.repeat(43), returnTo: `${appUrl}/` },
      new Date(),
    );
    const res = await app.request('GET', `/api/login/sso/callback?state=${state}&code=x`, {
      headers: { 'x-forwarded-for': nextIp(), cookie: `__Host-sf_sso=${cookie}` },
    });
    expect([res.status, res.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
