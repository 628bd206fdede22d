import { createPublicKey, type KeyLike, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * The IdP certificates' public keys, parsed once. node-saml hands xml-crypto each trusted
 * certificate as PEM text for every answer, and Node parses the X.509 structure again on every
 * `verify` (about a millisecond, most of the crypto cost of a SAML answer). Keyed by the exact PEM
 * text, so a changed certificate in an org's configuration is a different entry and an old one
 * is never used for it; the oldest entries leave once `MAX_KEYS` are held. The signature check
 * itself is unchanged: same algorithm, same key, same signature value.
 */
const MAX_KEYS = 256;
const CERTIFICATE_PEM = /^-----BEGIN CERTIFICATE-----\r?\n/;
const parsed = new Map<string, KeyObject>();

export function idpPublicKey(pem: string): KeyObject {
  const known = parsed.get(pem);
  if (known) return known;
  const key = createPublicKey(pem);
  if (parsed.size >= MAX_KEYS) {
    const oldest = parsed.keys().next().value;
    if (oldest !== undefined) parsed.delete(oldest);
  }
  parsed.set(pem, key);
  return key;
}

/** How many parsed keys are held (tests). */
export function parsedKeyCount(): number {
  return parsed.size;
}

/** Forgets every parsed key (the benchmark's "parse per answer" figure, tests). */
export function forgetParsedKeys(): void {
  parsed.clear();
}

/**
 * The xml-crypto that node-saml itself loads. node-saml is installed beside the login unit rather
 * than bundled (scripts/build/bundle.ts), so an `import 'xml-crypto'` here would be a second,
 * bundled copy that node-saml never calls; resolving from node-saml's own entry finds its copy.
 */
function samlSignedXml(): typeof import('xml-crypto').SignedXml {
  const here = createRequire(import.meta.url);
  const fromSaml = createRequire(here.resolve('@node-saml/node-saml'));
  return (fromSaml('xml-crypto') as typeof import('xml-crypto')).SignedXml;
}

type Verifier = {
  verifySignature: (material: string, key: KeyLike, signatureValue: string, ...rest: unknown[]) => unknown;
};
type WithAlgorithms = { findSignatureAlgorithm(name: string): Verifier };

let installed = false;

/**
 * Lets xml-crypto's signature algorithms verify with the parsed key when they are given a
 * certificate as PEM text (how node-saml passes `idpCert`). Anything else (a KeyObject, HMAC
 * secrets, private keys for signing) goes through untouched.
 */
export function installParsedIdpKeys(): void {
  if (installed) return;
  installed = true;
  const proto = samlSignedXml().prototype as unknown as WithAlgorithms;
  const find = proto.findSignatureAlgorithm;
  // Only a speed-up: an xml-crypto without this method verifies as it always did.
  if (typeof find !== 'function') return;
  proto.findSignatureAlgorithm = function (this: unknown, name: string) {
    const algorithm = find.call(this, name);
    const verify = algorithm.verifySignature;
    algorithm.verifySignature = (material, key, signatureValue, ...rest) =>
      verify.call(
        algorithm,
        material,
        typeof key === 'string' && CERTIFICATE_PEM.test(key) ? idpPublicKey(key) : key,
        signatureValue,
        ...rest,
      );
    return algorithm;
  };
}
