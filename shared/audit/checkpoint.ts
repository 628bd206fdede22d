import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { sha256Hex } from '../crypto/tokens.js';
import { canonicalJson } from './canonical.js';

/** What a checkpoint vouches for: chain `chain` had `seq` rows ending in `hash` at `time`. */
export interface CheckpointBody {
  chain: string;
  seq: number;
  hash: string;
  time: string;
}

export const signedCheckpointSchema = z.object({
  chain: z.string().min(1),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  time: z.iso.datetime({ offset: true }),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().min(1),
});
export type SignedCheckpoint = z.infer<typeof signedCheckpointSchema>;

export interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** First 16 hex of SHA-256(SPKI DER), so a rotated key's checkpoints stay attributable. */
  keyId: string;
}

/** The Ed25519 key pair from the `audit-signing-key` secret (PKCS#8 PEM). */
export function signingKeys(pkcs8Pem: string): SigningKeys {
  const privateKey = createPrivateKey(pkcs8Pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('audit-signing-key must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/**
 * A public key of an earlier signing key, as base64 of its SPKI DER (what
 * `openssl pkey -in old.pem -pubout -outform DER | base64 -w0` prints). Throws on anything that is
 * not an Ed25519 public key.
 */
export function retiredPublicKey(spkiBase64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return key;
}

/**
 * The public keys verify accepts, by key id: the current signing key and every retired one the
 * operator still trusts (AUDIT_RETIRED_PUBLIC_KEYS). After a rotation, chains that have not moved
 * keep their last checkpoint signed by the old key; it stays verifiable while that key is listed.
 */
export function trustedKeyRing(current: SigningKeys, retired: readonly KeyObject[]): Map<string, KeyObject> {
  const ring = new Map(retired.map((key) => [keyIdOf(key), key] as const));
  ring.set(current.keyId, current.publicKey);
  return ring;
}

/** Signs the RFC 8785 canonical JSON of the body, so any verifier reproduces the exact bytes. */
export function signCheckpoint(body: CheckpointBody, keys: SigningKeys): SignedCheckpoint {
  const { chain, seq, hash, time } = body;
  const signature = sign(null, Buffer.from(canonicalJson({ chain, seq, hash, time })), keys.privateKey);
  return { chain, seq, hash, time, keyId: keys.keyId, signature: signature.toString('base64') };
}

export function checkpointSignatureValid(checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean {
  const { chain, seq, hash, time } = checkpoint;
  try {
    return verify(
      null,
      Buffer.from(canonicalJson({ chain, seq, hash, time })),
      publicKey,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/** Object names sort by seq (zero-padded), so the latest checkpoint is the last name listed. */
export function checkpointPrefix(chain: string): string {
  return `chains/${chain.replace(':', '/')}/`;
}

export function checkpointKey(chain: string, seq: number): string {
  return `${checkpointPrefix(chain)}${String(seq).padStart(16, '0')}.json`;
}
