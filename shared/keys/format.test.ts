import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE62_ALPHABET } from './base62.js';
import {
  API_KEY_LENGTH,
  API_KEY_PREFIX,
  checksumOf,
  displayPrefixOf,
  generateApiKey,
  parseApiKey,
} from './format.js';

const secretBytes = fc.uint8Array({ minLength: 24, maxLength: 24 });
const fromBytes = (bytes: Uint8Array) => generateApiKey(() => bytes);
/** Any printable ASCII character plus a few that must never slip through. */
const anyChar = fc.oneof(
  fc.constantFrom(...BASE62_ALPHABET),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  fc.constantFrom('é', '\u0000', ' ', '-', '_'),
);

describe('API key format', () => {
  it('issues keys of one fixed length: sf_live_ + 33 base62 characters + a 6-character checksum', () => {
    expect(API_KEY_LENGTH).toBe(47);
    expect(generateApiKey()).toMatch(/^sf_live_[0-9A-Za-z]{39}$/);
    // All-zero and all-one secrets keep the width (left-padded; the maximum still fits).
    expect(fromBytes(new Uint8Array(24))).toHaveLength(47);
    expect(fromBytes(new Uint8Array(24).fill(255))).toHaveLength(47);
    expect(fromBytes(new Uint8Array(24)).slice(8, 41)).toBe('0'.repeat(33));
  });

  it('parses every issued key, and shows only the prefix and six body characters', () => {
    fc.assert(
      fc.property(secretBytes, (bytes) => {
        const key = fromBytes(bytes);
        const parsed = parseApiKey(key);
        expect(parsed).toEqual({ ok: true, key, displayPrefix: key.slice(0, 14) });
        expect(displayPrefixOf(key)).toHaveLength(API_KEY_PREFIX.length + 6);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects every single-character change of the random part or checksum offline', () => {
    fc.assert(
      fc.property(secretBytes, fc.nat(38), fc.constantFrom(...BASE62_ALPHABET), (bytes, offset, char) => {
        const key = fromBytes(bytes);
        const at = API_KEY_PREFIX.length + offset;
        fc.pre(key[at] !== char);
        const changed = key.slice(0, at) + char + key.slice(at + 1);
        // Same length and alphabet: only the checksum (or, past 2^192, the range check) can tell.
        expect(parseApiKey(changed)).toMatchObject({
          ok: false,
          reason: expect.stringMatching(/checksum|range/),
        });
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects a change of any single character anywhere, to any character', () => {
    fc.assert(
      fc.property(secretBytes, fc.nat(API_KEY_LENGTH - 1), anyChar, (bytes, at, char) => {
        const key = fromBytes(bytes);
        fc.pre(key[at] !== char);
        expect(parseApiKey(key.slice(0, at) + char + key.slice(at + 1)).ok).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects every one-character change exhaustively for one key (47 positions × 62+ characters)', () => {
    const key = generateApiKey();
    let tried = 0;
    for (let at = 0; at < key.length; at++) {
      for (const char of `${BASE62_ALPHABET}_-. `) {
        if (key[at] === char) continue;
        tried++;
        expect(parseApiKey(key.slice(0, at) + char + key.slice(at + 1)).ok).toBe(false);
      }
    }
    expect(tried).toBeGreaterThan(47 * 62);
  });

  it.each([
    ['a wrong prefix', (k: string) => `sf_test_${k.slice(8)}`, 'prefix'],
    ['no prefix', (k: string) => k.slice(8), 'prefix'],
    ['an upper-case prefix', (k: string) => `SF_LIVE_${k.slice(8)}`, 'prefix'],
    ['one character too many', (k: string) => `${k}0`, 'length'],
    ['one character too few', (k: string) => k.slice(0, -1), 'length'],
    [
      'a session-token-shaped string after the prefix',
      () => `sf_live_${'A'.repeat(43)}`.slice(0, 51),
      'length',
    ],
    ['a character outside base62', (k: string) => `${k.slice(0, 20)}-${k.slice(21)}`, 'alphabet'],
    ['a non-ASCII character', (k: string) => `${k.slice(0, 20)}é${k.slice(21)}`, 'alphabet'],
    ['trailing whitespace in place of a character', (k: string) => `${k.slice(0, -1)} `, 'alphabet'],
    [
      'swapped checksum characters',
      (k: string) => `${k.slice(0, 41)}${[...k.slice(41)].reverse().join('')}`,
      'checksum',
    ],
  ])('rejects %s', (_label, mangle, reason) => {
    let key = generateApiKey();
    // A palindromic checksum would survive the reversal; draw again.
    while ([...key.slice(41)].reverse().join('') === key.slice(41)) key = generateApiKey();
    expect(parseApiKey(mangle(key))).toEqual({ ok: false, reason });
  });

  it('rejects a body above 2^192 even with a correct checksum (it cannot have been issued)', () => {
    const unchecked = `${API_KEY_PREFIX}${'z'.repeat(33)}`;
    expect(parseApiKey(unchecked + checksumOf(unchecked))).toEqual({ ok: false, reason: 'range' });
  });

  it('rejects a checksum that decodes above 2^32', () => {
    const key = generateApiKey();
    expect(parseApiKey(`${key.slice(0, 41)}zzzzzz`)).toEqual({ ok: false, reason: 'checksum' });
  });
});
