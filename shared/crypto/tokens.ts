import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: the shape of every session, reset, verification and invite token. */
export const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function randomToken(random: (size: number) => Buffer = randomBytes): string {
  return random(TOKEN_BYTES).toString('base64url');
}

/** Cheap shape check so garbage never reaches the database. */
export function isTokenShaped(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

// One-shot crypto.hash: about three times createHash().update().digest() for inputs this small
// (session lookups hash every request's token; audit verify hashes every row).
export function sha256(input: string | Uint8Array): Buffer {
  return hash('sha256', input, 'buffer');
}

export function sha256Hex(input: string | Uint8Array): string {
  return hash('sha256', input, 'hex');
}

/** Constant-time comparison so timing does not reveal how long a matching prefix is. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
