import { DOMParser } from '@xmldom/xmldom';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface IdpMetadata {
  entityId: string;
  /** The HTTP-Redirect SingleSignOnService location. */
  ssoUrl: string;
  /** Signing certificates, base64 DER without whitespace. */
  certs: string[];
}

/**
 * The three things we take from an IdP's metadata. Uploaded by the org's owner, never fetched.
 * A DOCTYPE is refused outright (no entity expansion); the SSO URL must be https (loopback http
 * only where `allowLoopbackHttp`), and at least one signing certificate must be present, since
 * unsigned assertions are never accepted.
 */
export function parseIdpMetadata(
  xml: string,
  allowLoopbackHttp: boolean,
): { ok: true; metadata: IdpMetadata } | { ok: false; reason: string } {
  if (/<!DOCTYPE/i.test(xml)) return { ok: false, reason: 'DOCTYPE is not allowed' };
  let doc: Document;
  try {
    const errors: string[] = [];
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning') errors.push(message);
      },
    }).parseFromString(xml, 'text/xml') as unknown as Document;
    if (errors.length > 0) return { ok: false, reason: 'not well-formed XML' };
  } catch {
    return { ok: false, reason: 'not well-formed XML' };
  }
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== MD || root.localName !== 'EntityDescriptor') {
    return { ok: false, reason: 'the root must be one md:EntityDescriptor' };
  }
  const entityId = root.getAttribute('entityID') ?? '';
  if (!entityId || entityId.length > 1024) return { ok: false, reason: 'entityID is missing' };
  const idp = Array.from(root.getElementsByTagNameNS(MD, 'IDPSSODescriptor'))[0];
  if (!idp) return { ok: false, reason: 'no IDPSSODescriptor' };
  const service = Array.from(idp.getElementsByTagNameNS(MD, 'SingleSignOnService')).find(
    (s) => s.getAttribute('Binding') === REDIRECT,
  );
  const ssoUrl = service?.getAttribute('Location') ?? '';
  if (!urlAllowed(ssoUrl, allowLoopbackHttp)) {
    return { ok: false, reason: 'no https SingleSignOnService with the HTTP-Redirect binding' };
  }
  const certs = Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'))
    .filter((k) => (k.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((k) => Array.from(k.getElementsByTagNameNS(DS, 'X509Certificate')))
    .map((c) => (c.textContent ?? '').replace(/\s+/g, ''))
    .filter((c) => /^[A-Za-z0-9+/]+={0,2}$/.test(c));
  if (certs.length === 0) return { ok: false, reason: 'no signing certificate' };
  return { ok: true, metadata: { entityId, ssoUrl, certs: [...new Set(certs)] } };
}

function urlAllowed(value: string, allowLoopbackHttp: boolean): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return (
    allowLoopbackHttp &&
    url.protocol === 'http:' &&
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost')
  );
}

/** PEM for node-saml's `idpCert`. */
export function certPem(base64Der: string): string {
  const lines = base64Der.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}
