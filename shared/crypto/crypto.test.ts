import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { open, seal } from './seal.js';
import { Secret } from './secret.js';
import { constantTimeEqual, isTokenShaped, randomToken, sha256Hex } from './tokens.js';

describe('tokens', () => {
  it('are 32 random bytes in base64url', () => {
    const token = randomToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(isTokenShaped(token)).toBe(true);
    expect(randomToken()).not.toBe(token);
  });

  it('shape check refuses anything else', () => {
    for (const bad of ['', 'a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}/`]) {
      expect(isTokenShaped(bad)).toBe(false);
    }
  });

  it('sha256 is the SHA-256 of the input', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('constant-time equality compares content and length', () => {
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('ab'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('ac'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('abc'))).toBe(false);
  });
});

describe('Secret', () => {
  it('never prints its value', () => {
    const secret = new Secret('hunter2-hunter2');
    expect(String(secret)).toBe('[secret]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[secret]"}');
    expect(inspect(secret)).not.toContain('hunter2');
    expect(`${secret}`).not.toContain('hunter2');
    expect(secret.reveal()).toBe('hunter2-hunter2');
  });
});

describe('seal', () => {
  const ring = {
    currentKeyId: 'k2',
    keys: new Map([
      ['k1', Buffer.alloc(32, 1)],
      ['k2', Buffer.alloc(32, 2)],
    ]),
  };

  it('round-trips and binds the associated data', () => {
    const sealed = seal(ring, 'totp-secret', 'user:1');
    expect(sealed.startsWith('k2.')).toBe(true);
    expect(open(ring, sealed, 'user:1')?.toString()).toBe('totp-secret');
    expect(open(ring, sealed, 'user:2')).toBeNull();
  });

  it('opens data sealed under an older key of the ring', () => {
    const old = seal({ ...ring, currentKeyId: 'k1' }, 'x');
    expect(open(ring, old)?.toString()).toBe('x');
  });

  it('refuses tampered, truncated and unknown-key input', () => {
    const sealed = seal(ring, 'payload');
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(open(ring, `k2.${raw.toString('base64url')}`)).toBeNull();
    expect(open(ring, sealed.slice(0, 20))).toBeNull();
    expect(open(ring, `k9.${sealed.slice(3)}`)).toBeNull();
    expect(open(ring, 'garbage')).toBeNull();
  });
});
