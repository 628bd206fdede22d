/**
 * Fixed-width base62 (`0-9A-Za-z`). The alphabet is in ASCII order, so for strings of one width
 * string comparison equals numeric comparison.
 */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 62n;

/** Big-endian unsigned bytes → base62, left-padded with `0` to `width` characters. */
export function encodeBase62(bytes: Uint8Array, width: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return encodeBase62Number(value, width);
}

export function encodeBase62Number(value: bigint | number, width: number): string {
  let rest = BigInt(value);
  let out = '';
  while (rest > 0n) {
    out = BASE62_ALPHABET[Number(rest % BASE)] + out;
    rest /= BASE;
  }
  if (out.length > width) throw new RangeError(`value needs more than ${width} base62 digits`);
  return out.padStart(width, '0');
}

/** Base62 text → number; the caller has checked the alphabet already. */
export function decodeBase62Small(text: string): number {
  let value = 0;
  for (const char of text) value = value * 62 + BASE62_ALPHABET.indexOf(char);
  return value;
}

/** Digits needed to write any `bits`-bit number in base62. */
export function base62Width(bits: number): number {
  return Math.ceil(bits / Math.log2(62));
}
