import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';

/** An RSA key and a self-signed certificate (openssl, once per test file). */
export interface KeyPair {
  key: string;
  cert: string;
  /** The certificate's base64 DER, as metadata carries it. */
  certBase64: string;
}

export function makeKeyPair(cn = 'test-idp'): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'saml-idp-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    return { key, cert, certBase64: cert.replace(/-----[^-]+-----|\s+/g, '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ALG = {
  sha256: {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
  sha1: {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
} as const;

export interface AssertionInput {
  issuer: string;
  email: string;
  nameId?: string;
  audience: string;
  recipient: string;
  inResponseTo?: string;
  notBefore: Date;
  notOnOrAfter: Date;
  id?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

export function assertionXml(a: AssertionInput): string {
  const id = a.id ?? `_a${randomBytes(16).toString('hex')}`;
  const irt = a.inResponseTo ? ` InResponseTo="${esc(a.inResponseTo)}"` : '';
  return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${a.notBefore.toISOString()}"><saml:Issuer>${esc(a.issuer)}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${esc(a.nameId ?? a.email)}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${irt} NotOnOrAfter="${a.notOnOrAfter.toISOString()}" Recipient="${esc(a.recipient)}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${a.notBefore.toISOString()}" NotOnOrAfter="${a.notOnOrAfter.toISOString()}"><saml:AudienceRestriction><saml:Audience>${esc(a.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${a.notBefore.toISOString()}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${esc(a.email)}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`;
}

/** Signs the assertion (enveloped, exclusive c14n), the signature after its Issuer as the schema wants. */
export function signAssertion(xml: string, keys: KeyPair, algorithm: keyof typeof ALG = 'sha256'): string {
  const sig = new SignedXml({
    privateKey: keys.key,
    publicCert: keys.cert,
    signatureAlgorithm: ALG[algorithm].signature,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: ALG[algorithm].digest,
  });
  sig.computeSignature(xml, {
    location: { reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
  });
  return sig.getSignedXml();
}

export function responseXml(r: {
  issuer: string;
  destination: string;
  inResponseTo?: string;
  assertion: string;
  extensions?: string;
}): string {
  const irt = r.inResponseTo ? ` InResponseTo="${esc(r.inResponseTo)}"` : '';
  const ext = r.extensions ? `<samlp:Extensions>${r.extensions}</samlp:Extensions>` : '';
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${esc(r.destination)}"${irt}><saml:Issuer>${esc(r.issuer)}</saml:Issuer>${ext}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${r.assertion}</samlp:Response>`;
}

export function idpMetadata(entityId: string, ssoUrl: string, certBase64: string): string {
  return `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${esc(entityId)}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${esc(ssoUrl)}"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${esc(ssoUrl)}/post"/></md:IDPSSODescriptor></md:EntityDescriptor>`;
}

/** The AuthnRequest a redirect carries (deflated, base64, in SAMLRequest). */
export function authnRequestOf(location: string): string {
  const encoded = new URL(location).searchParams.get('SAMLRequest') ?? '';
  return inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
}

export function requestIdOf(location: string): string {
  const id = /\sID="([^"]+)"/.exec(authnRequestOf(location))?.[1];
  if (!id) throw new Error('no AuthnRequest ID in the redirect');
  return id;
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

/**
 * A base64 Response to `requestId` with one assertion for `email`, signed by `keys`, addressed to
 * `sp` and valid from a minute ago for `validMinutes`: what a well-behaved IdP posts to our ACS.
 */
export function signedAnswer(a: {
  keys: KeyPair;
  issuer: string;
  email: string;
  sp: { entityId: string; acsUrl: string };
  requestId: string;
  validMinutes?: number;
  assertionId?: string;
}): string {
  const now = Date.now();
  const assertion = assertionXml({
    issuer: a.issuer,
    email: a.email,
    audience: a.sp.entityId,
    recipient: a.sp.acsUrl,
    inResponseTo: a.requestId,
    notBefore: new Date(now - 60_000),
    notOnOrAfter: new Date(now + (a.validMinutes ?? 30) * 60_000),
    ...(a.assertionId ? { id: a.assertionId } : {}),
  });
  return b64(
    responseXml({
      issuer: a.issuer,
      destination: a.sp.acsUrl,
      inResponseTo: a.requestId,
      assertion: signAssertion(assertion, a.keys),
    }),
  );
}
