import { describe, expect, it } from 'vitest';
import { Secret } from '../crypto/secret.js';
import { isBreachedPassword, loadBreachedList } from './breached.js';
import { PasswordHasher, passwordProblem } from './password.js';

const hasher = new PasswordHasher(new Secret('test-pepper'), 4);
const never = () => false;

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify('correct horse battery staple', hash)).toBe(true);
    expect(await hasher.verify('correct horse battery stapler', hash)).toBe(false);
  });

  it('a password differing only after byte 72 does not verify', async () => {
    const base = 'x'.repeat(72);
    const hash = await hasher.hash(`${base}-first`);
    expect(await hasher.verify(`${base}-second`, hash)).toBe(false);
  });

  it('compares passwords as NFC: composed and decomposed forms are the same password', async () => {
    const composed = 'caf\u00e9-password-long';
    const decomposed = 'cafe\u0301-password-long';
    const hash = await hasher.hash(composed);
    expect(await hasher.verify(decomposed, hash)).toBe(true);
  });

  it('depends on the pepper: the same password under another pepper does not verify', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    const other = new PasswordHasher(new Secret('other-pepper'), 4);
    expect(await other.verify('correct horse battery staple', hash)).toBe(false);
  });

  it('uses the configured bcrypt cost', async () => {
    expect((await hasher.hash('correct horse battery staple')).startsWith('$2b$04$')).toBe(true);
    expect(hasher.needsRehash('$2b$12$abcdefghijklmnopqrstuu0123456789012345678901234567890')).toBe(true);
  });

  it('the dummy comparison always fails', async () => {
    expect(await hasher.verifyDummy('anything at all here')).toBe(false);
  });
});

describe('password policy', () => {
  it('counts characters after NFC, 12 to 256', () => {
    expect(passwordProblem('a'.repeat(11), never)).toBe('too_short');
    expect(passwordProblem('a'.repeat(12), never)).toBeNull();
    expect(passwordProblem('a'.repeat(256), never)).toBeNull();
    expect(passwordProblem('a'.repeat(257), never)).toBe('too_long');
    // 12 code points of an astral emoji are 24 UTF-16 units but 12 characters
    expect(passwordProblem('\u{1F600}'.repeat(12), never)).toBeNull();
    // e + combining accent normalizes to one character
    expect(passwordProblem('e\u0301'.repeat(11), never)).toBe('too_short');
  });

  it('refuses NUL characters deliberately', () => {
    expect(passwordProblem('abcdefghijkl\u0000m', never)).toBe('contains_nul');
  });

  it('refuses breached passwords and has no composition rules', () => {
    expect(passwordProblem('aaaaaaaaaaaa', () => true)).toBe('breached');
    expect(passwordProblem('all lowercase words here', never)).toBeNull();
  });
});

describe('breached list', () => {
  it('holds at least 100k entries and answers membership', () => {
    expect(loadBreachedList().size).toBeGreaterThanOrEqual(100_000);
    expect(isBreachedPassword('password1234')).toBe(true);
    expect(isBreachedPassword('PASSWORD1234')).toBe(true);
    expect(isBreachedPassword('vivid-otter-quarry-lamp-91')).toBe(false);
  });
});
