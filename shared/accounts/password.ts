import { createHmac } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Secret } from '../crypto/secret.js';

export const MIN_PASSWORD_CHARS = 12;
export const MAX_PASSWORD_CHARS = 256;

/** Passwords are compared as NFC, so "é" typed precomposed or combining is the same password. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

export type PasswordProblem = 'too_short' | 'too_long' | 'contains_nul' | 'breached';

/**
 * NIST 800-63B: length and a breached-list check, no composition rules. Length counts Unicode
 * code points after NFC. NUL is refused deliberately: it cannot be typed, and some clients and
 * libraries truncate at it.
 */
export function passwordProblem(
  password: string,
  isBreached: (candidate: string) => boolean,
): PasswordProblem | null {
  const normalized = normalizePassword(password);
  const chars = [...normalized].length;
  if (chars < MIN_PASSWORD_CHARS) return 'too_short';
  if (chars > MAX_PASSWORD_CHARS) return 'too_long';
  if (normalized.includes('\u0000')) return 'contains_nul';
  if (isBreached(normalized)) return 'breached';
  return null;
}

export const passwordProblemMessages: Record<PasswordProblem, string> = {
  too_short: `must be at least ${MIN_PASSWORD_CHARS} characters`,
  too_long: `must be at most ${MAX_PASSWORD_CHARS} characters`,
  contains_nul: 'must not contain NUL characters',
  breached: 'appears in a list of breached passwords; choose another',
};

/**
 * bcrypt over base64(HMAC-SHA256(pepper, NFC(password))). bcrypt reads only 72 bytes, so the
 * pre-hash makes every byte count (a password differing after byte 72 is a different password),
 * and the pepper, kept in Secret Manager, makes a stolen database alone useless for cracking.
 */
export class PasswordHasher {
  readonly #dummyHash: Promise<string>;

  constructor(
    private readonly pepper: Secret<string>,
    readonly cost: number,
  ) {
    // A real hash of a random value, so unknown-user logins spend the same time in bcrypt.
    this.#dummyHash = bcrypt.hash(this.#prehash(`dummy-${Math.random()}`), cost);
  }

  #prehash(password: string): string {
    return createHmac('sha256', this.pepper.reveal())
      .update(normalizePassword(password), 'utf8')
      .digest('base64');
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(this.#prehash(password), this.cost);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(this.#prehash(password), hash);
  }

  /** Spends one bcrypt comparison and always answers false: the unknown-user path. */
  async verifyDummy(password: string): Promise<false> {
    await bcrypt.compare(this.#prehash(password), await this.#dummyHash);
    return false;
  }

  /** True when the stored hash used another cost, so a successful login can upgrade it. */
  needsRehash(hash: string): boolean {
    return bcrypt.getRounds(hash) !== this.cost;
  }
}
