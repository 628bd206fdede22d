import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deviceFingerprint } from './fingerprint.js';

describe('device fingerprint', () => {
  it('is the hex of the first 16 bytes of SHA-256 over length-prefixed (IP, User-Agent)', () => {
    const expected = createHash('sha256')
      .update(Buffer.from([0, 0, 0, 11]))
      .update('203.0.113.9')
      .update(Buffer.from([0, 0, 0, 5]))
      .update('UA/1 ')
      .digest()
      .subarray(0, 16)
      .toString('hex');
    expect(deviceFingerprint('203.0.113.9', 'UA/1 ')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{32}$/);
  });

  it('cannot be collided by moving bytes from one field to the other', () => {
    expect(deviceFingerprint('10.0.0.1', '2x')).not.toBe(deviceFingerprint('10.0.0.12', 'x'));
    expect(deviceFingerprint('a', '')).not.toBe(deviceFingerprint('', 'a'));
  });

  it('treats a missing User-Agent as empty, and counts UTF-8 bytes, not characters', () => {
    expect(deviceFingerprint('::1', null)).toBe(deviceFingerprint('::1', ''));
    expect(deviceFingerprint('::1', 'é')).not.toBe(deviceFingerprint('::1', 'e'));
  });

  it('differs when either the IP or the User-Agent differs', () => {
    const base = deviceFingerprint('198.51.100.1', 'Firefox');
    expect(deviceFingerprint('198.51.100.2', 'Firefox')).not.toBe(base);
    expect(deviceFingerprint('198.51.100.1', 'Chrome')).not.toBe(base);
    expect(deviceFingerprint('198.51.100.1', 'Firefox')).toBe(base);
  });
});
