import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a key id in front, so keys can be rotated: data sealed under an old key
 * still opens while that key is kept in the key ring.
 * Format (base64url): "<keyId>.<iv 12 bytes><tag 16 bytes><ciphertext>".
 */
export interface KeyRing {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export function seal(ring: KeyRing, plaintext: string | Buffer, associatedData = ''): string {
  const key = ring.keys.get(ring.currentKeyId);
  if (key?.length !== 32) throw new Error(`seal: key ${ring.currentKeyId} is not a 32-byte key`);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${ring.currentKeyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** Returns null for anything that was not sealed by a key in the ring (tampered, truncated, unknown key). */
export function open(ring: KeyRing, sealed: string, associatedData = ''): Buffer | null {
  const dot = sealed.indexOf('.');
  if (dot <= 0) return null;
  const key = ring.keys.get(sealed.slice(0, dot));
  const raw = Buffer.from(sealed.slice(dot + 1), 'base64url');
  if (!key || raw.length < 28) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch {
    return null;
  }
}
