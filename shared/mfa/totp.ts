import { generateSecret, generateURI, verify } from 'otplib';
import { TOTP_DIGITS, TOTP_DRIFT_STEPS, TOTP_ISSUER, TOTP_PERIOD_SECONDS, timeStepAt } from './model.js';

/** A new base32 secret of 20 random bytes (160 bits, RFC 4226's recommended length). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUrl(secret: string, accountName: string): string {
  return generateURI({
    issuer: TOTP_ISSUER,
    label: accountName,
    secret,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/**
 * The time step a 6-digit code belongs to, if it is within ±1 step of `now` and later than
 * `afterStep` (the last accepted one); null otherwise. The caller still has to win the
 * compare-and-set on the stored step: this only says which step to claim.
 */
export async function matchingStep(
  secret: string,
  code: string,
  now: Date,
  afterStep: number | null,
): Promise<number | null> {
  const current = timeStepAt(now);
  // Every step in the window is already spent (otplib refuses an afterTimeStep past its window).
  if (afterStep !== null && afterStep >= current + TOTP_DRIFT_STEPS) return null;
  const result = await verify({
    secret,
    token: code,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOTP_DRIFT_STEPS * TOTP_PERIOD_SECONDS,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
