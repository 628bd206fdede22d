import { randomBytes } from 'node:crypto';
import { sha256 } from '../crypto/tokens.js';

/** RFC 6238 as authenticator apps use it: SHA-1, 6 digits, 30-second steps, ±1 step of drift. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_DRIFT_STEPS = 1;
export const TOTP_ISSUER = 'SessionForge';

export const BACKUP_CODE_COUNT = 10;
export const MFA_TOKEN_TTL_MS = 5 * 60 * 1000;
/** Wrong codes in a row that lock step-up and MFA login for the user. */
export const MAX_FAILED_CODES = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;

export const TOTP_CODE_PATTERN = /^[0-9]{6}$/;
/** 16 base32 characters in groups of four, hyphens optional, either case: 80 random bits. */
export const BACKUP_CODE_PATTERN = /^[a-zA-Z2-7]{4}(?:-?[a-zA-Z2-7]{4}){3}$/;
/** Either shape, as one flag-free pattern so the HTTP schema (and OpenAPI) can state it. */
export const MFA_CODE_PATTERN = /^(?:[0-9]{6}|[a-zA-Z2-7]{4}(?:-?[a-zA-Z2-7]{4}){3})$/;

export type CodeKind = 'totp' | 'backup_code';

/** Explicit ASCII classes: a fullwidth or Arabic-Indic digit is not a digit here. */
export function codeKind(code: string): CodeKind | null {
  if (TOTP_CODE_PATTERN.test(code)) return 'totp';
  if (BACKUP_CODE_PATTERN.test(code)) return 'backup_code';
  return null;
}

export function timeStepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A backup code as shown to the user: 10 bytes of randomness as "abcd-efgh-ijkl-mnop". */
export function newBackupCode(random: (size: number) => Buffer = randomBytes): string {
  const bytes = random(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join('-') ?? out;
}

/**
 * What is stored for a backup code. Plain SHA-256 is enough because each code carries 80 random
 * bits (nothing to guess offline, unlike a password); the user id in front means equal codes of
 * two users never share a hash.
 */
export function backupCodeHash(userId: string, code: string): Buffer {
  return sha256(`${userId}:${code.replaceAll('-', '').toLowerCase()}`);
}

/** The failure counter after one more wrong code: the fifth in a row locks and restarts the count. */
export function afterWrongCode(
  failedAttempts: number,
  now: Date,
): { failedAttempts: number; lockedUntil: Date | null } {
  const next = failedAttempts + 1;
  if (next >= MAX_FAILED_CODES)
    return { failedAttempts: 0, lockedUntil: new Date(now.getTime() + LOCKOUT_MS) };
  return { failedAttempts: next, lockedUntil: null };
}

export function lockedAt(lockedUntil: Date | null, now: Date): boolean {
  return lockedUntil !== null && now.getTime() < lockedUntil.getTime();
}

/** How a login's first step was passed, before its second factor: a password or a Firebase identity. */
export type FirstFactor = 'password' | 'google' | 'github';
