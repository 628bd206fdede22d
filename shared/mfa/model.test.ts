import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { FakeClock, MINUTE_MS, SECOND_MS } from '../time/clock.js';
import {
  afterWrongCode,
  BACKUP_CODE_PATTERN,
  backupCodeHash,
  codeKind,
  LOCKOUT_MS,
  lockedAt,
  MFA_CODE_PATTERN,
  newBackupCode,
  timeStepAt,
} from './model.js';
import { matchingStep, newTotpSecret, otpauthUrl } from './totp.js';

/** A step boundary: 2026-01-01T00:00:00Z is a multiple of 30 s. */
const STEP_START = new Date('2026-01-01T00:00:00Z');
const codeAt = (secret: string, at: Date) => generate({ secret, epoch: Math.floor(at.getTime() / 1000) });

describe('TOTP window (RFC 6238, 30 s steps, ±1 step)', () => {
  const secret = newTotpSecret();

  it('a code from the first second of its step is accepted 30 s before that step and refused 31 s before', async () => {
    const code = await codeAt(secret, STEP_START);
    const clock = new FakeClock(STEP_START);
    clock.advance(-30 * SECOND_MS);
    expect(await matchingStep(secret, code, clock.now(), null)).toBe(timeStepAt(STEP_START));
    clock.advance(-1 * SECOND_MS);
    expect(await matchingStep(secret, code, clock.now(), null)).toBeNull();
  });

  it('a code from the last second of its step is accepted 30 s later and refused 31 s later', async () => {
    const lastSecond = new Date(STEP_START.getTime() + 29 * SECOND_MS);
    const code = await codeAt(secret, lastSecond);
    const clock = new FakeClock(lastSecond);
    clock.advance(30 * SECOND_MS);
    expect(await matchingStep(secret, code, clock.now(), null)).toBe(timeStepAt(STEP_START));
    clock.advance(1 * SECOND_MS);
    expect(await matchingStep(secret, code, clock.now(), null)).toBeNull();
  });

  it('the current code is accepted and names the current step', async () => {
    const clock = new FakeClock(new Date(STEP_START.getTime() + 12 * SECOND_MS));
    expect(await matchingStep(secret, await codeAt(secret, clock.now()), clock.now(), null)).toBe(
      timeStepAt(STEP_START),
    );
  });

  it('a code of an already accepted (or earlier) step is refused, even inside the window', async () => {
    const step = timeStepAt(STEP_START);
    const code = await codeAt(secret, STEP_START);
    expect(await matchingStep(secret, code, STEP_START, step - 1)).toBe(step);
    expect(await matchingStep(secret, code, STEP_START, step)).toBeNull();
    expect(await matchingStep(secret, code, STEP_START, step + 1)).toBeNull();
    // A stored step beyond the window (clock moved back) refuses everything instead of throwing.
    expect(await matchingStep(secret, code, STEP_START, step + 5)).toBeNull();
  });

  it('a code of another secret is refused', async () => {
    expect(
      await matchingStep(secret, await codeAt(newTotpSecret(), STEP_START), STEP_START, null),
    ).toBeNull();
  });

  // The Key URI format's defaults are SHA1, 6 digits and 30 s; otplib leaves defaults out.
  it('the otpauth URL names the issuer and the account and keeps the SHA1 / 6 digit / 30 s defaults', () => {
    const url = new URL(otpauthUrl(secret, 'ada@example.com'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('issuer')).toBe('SessionForge');
    expect(url.searchParams.get('algorithm') ?? 'SHA1').toBe('SHA1');
    expect(url.searchParams.get('digits') ?? '6').toBe('6');
    expect(url.searchParams.get('period') ?? '30').toBe('30');
    expect(decodeURIComponent(url.pathname)).toContain('ada@example.com');
  });
});

describe('code shapes', () => {
  it.each([
    ['123456', 'totp'],
    ['abcd-efgh-ijkl-mnop', 'backup_code'],
    ['ABCDEFGHIJKLMNOP', 'backup_code'],
  ])('%s is a %s', (code, kind) => {
    expect(codeKind(code)).toBe(kind);
  });

  it.each([
    '12345',
    '1234567',
    '123 456',
    ' 123456',
    '１２３４５６',
    '١٢٣٤٥٦',
    '12345a',
    '',
    'abcd-efgh-ijkl-mno1',
    'abcd efgh ijkl mnop',
  ])('%j is neither a TOTP nor a backup code', (code) => {
    expect(codeKind(code)).toBeNull();
    expect(MFA_CODE_PATTERN.test(code)).toBe(false);
  });

  it('the HTTP pattern admits exactly the two shapes', () => {
    for (const code of ['123456', 'abcd-efgh-ijkl-mnop', 'ABCDEFGHIJKLMNOP', 'abcdefgh-ijklmnop']) {
      expect(codeKind(code)).not.toBeNull();
      expect(MFA_CODE_PATTERN.test(code)).toBe(true);
    }
  });

  it('backup codes carry 80 random bits in four groups of base32', () => {
    const codes = new Set(Array.from({ length: 200 }, () => newBackupCode()));
    expect(codes.size).toBe(200);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    expect(newBackupCode(() => Buffer.alloc(10))).toBe('aaaa-aaaa-aaaa-aaaa');
    expect(newBackupCode(() => Buffer.alloc(10, 0xff))).toBe('7777-7777-7777-7777');
    expect(BACKUP_CODE_PATTERN.test(newBackupCode())).toBe(true);
  });

  it('a backup code hashes the same typed in capitals or without hyphens, and differently for another user', () => {
    const code = 'abcd-efgh-ijkl-mnop';
    expect(backupCodeHash('u1', 'ABCDEFGHIJKLMNOP').equals(backupCodeHash('u1', code))).toBe(true);
    expect(backupCodeHash('u2', code).equals(backupCodeHash('u1', code))).toBe(false);
  });
});

describe('lockout after wrong codes', () => {
  it('the fifth wrong code in a row locks for 15 minutes and restarts the count', () => {
    const now = STEP_START;
    let failed = 0;
    for (let i = 1; i <= 4; i++) {
      const next = afterWrongCode(failed, now);
      expect(next).toEqual({ failedAttempts: i, lockedUntil: null });
      failed = next.failedAttempts;
    }
    expect(afterWrongCode(failed, now)).toEqual({
      failedAttempts: 0,
      lockedUntil: new Date(now.getTime() + LOCKOUT_MS),
    });
  });

  it('the lock holds until its end, exclusive', () => {
    const until = new Date(STEP_START.getTime() + 15 * MINUTE_MS);
    expect(lockedAt(until, new Date(until.getTime() - 1))).toBe(true);
    expect(lockedAt(until, until)).toBe(false);
    expect(lockedAt(null, STEP_START)).toBe(false);
  });
});
