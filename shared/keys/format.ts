import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  BASE62_ALPHABET,
  base62Width,
  decodeBase62Small,
  encodeBase62,
  encodeBase62Number,
} from './base62.js';

/**
 * API key text: `sf_live_` + base62 of 24 random bytes (33 characters, left-padded) + base62 of
 * the CRC32 of everything before it (6 characters). The checksum lets clients and secret
 * scanners reject typos offline, and lets the server refuse garbage before any database call.
 */
export const API_KEY_PREFIX = 'sf_live_';
export const API_KEY_SECRET_BYTES = 24;
export const API_KEY_BODY_LENGTH = base62Width(API_KEY_SECRET_BYTES * 8);
export const API_KEY_CHECKSUM_LENGTH = base62Width(32);
export const API_KEY_LENGTH = API_KEY_PREFIX.length + API_KEY_BODY_LENGTH + API_KEY_CHECKSUM_LENGTH;
/** Body characters shown in listings: enough to tell keys apart, too few to matter (~36 of 192 bits). */
export const DISPLAY_BODY_CHARS = 6;

/** The largest body 24 bytes can produce; a longer-valued body was never issued. */
const MAX_BODY = encodeBase62(new Uint8Array(API_KEY_SECRET_BYTES).fill(255), API_KEY_BODY_LENGTH);
const TAIL_PATTERN = new RegExp(`^[${BASE62_ALPHABET}]{${API_KEY_BODY_LENGTH + API_KEY_CHECKSUM_LENGTH}}$`);

export type ApiKeyRejection = 'prefix' | 'length' | 'alphabet' | 'range' | 'checksum';

export type ParsedApiKey =
  | { ok: true; key: string; displayPrefix: string }
  | { ok: false; reason: ApiKeyRejection };

export function checksumOf(keyWithoutChecksum: string): string {
  return encodeBase62Number(crc32(keyWithoutChecksum), API_KEY_CHECKSUM_LENGTH);
}

/** A new key; `random` is injectable so tests can pin the bytes. */
export function generateApiKey(random: (size: number) => Uint8Array = randomBytes): string {
  const body = encodeBase62(random(API_KEY_SECRET_BYTES), API_KEY_BODY_LENGTH);
  const unchecked = API_KEY_PREFIX + body;
  return unchecked + checksumOf(unchecked);
}

export function displayPrefixOf(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + DISPLAY_BODY_CHARS);
}

/** Pure, offline validation: prefix, length, alphabet, value range, then the checksum. */
export function parseApiKey(input: string): ParsedApiKey {
  if (!input.startsWith(API_KEY_PREFIX)) return { ok: false, reason: 'prefix' };
  if (input.length !== API_KEY_LENGTH) return { ok: false, reason: 'length' };
  const tail = input.slice(API_KEY_PREFIX.length);
  if (!TAIL_PATTERN.test(tail)) return { ok: false, reason: 'alphabet' };
  const body = tail.slice(0, API_KEY_BODY_LENGTH);
  if (body > MAX_BODY) return { ok: false, reason: 'range' };
  const expected = crc32(API_KEY_PREFIX + body);
  if (decodeBase62Small(tail.slice(API_KEY_BODY_LENGTH)) !== expected)
    return { ok: false, reason: 'checksum' };
  return { ok: true, key: input, displayPrefix: displayPrefixOf(input) };
}
