import { createHash } from 'node:crypto';

/**
 * A device is (IP, User-Agent): hex of the first 16 bytes of SHA-256 over a length-prefixed
 * encoding, so no pair of fields can be shifted into another pair ("a|b" vs "a" + "|b").
 * Each field is a 4-byte big-endian byte length followed by its UTF-8 bytes; a missing
 * User-Agent is the empty string.
 */
export function deviceFingerprint(ip: string, userAgent: string | null): string {
  const hash = createHash('sha256');
  for (const field of [ip, userAgent ?? '']) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.digest().subarray(0, 16).toString('hex');
}
