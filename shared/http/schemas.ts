import { z } from 'zod';
import { MFA_CODE_PATTERN, TOTP_CODE_PATTERN } from '../mfa/model.js';

/** Field schemas shared by several routes, so every route states the same limits. */
export const emailField = z.email({ message: 'must be an email address' }).max(254);
/** Raw input cap; the password rules (12–256 characters after NFC) are the domain's. */
export const passwordField = z.string().min(1).max(1024);
export const tokenField = z.string().min(1).max(256);
export const statusOnly = (status: string) => z.object({ status: z.literal(status) });
/** The 429 of a route under a per-client-IP limit (shared/ratelimit): Retry-After, and the wait in words. */
export const rateLimitedResponse = (limit: string) => ({
  description: `RATE_LIMITED: ${limit}. The message says when to try again ("Try again in 12 minutes.")`,
  headers: {
    'Retry-After': { description: 'Seconds until the next attempt can pass', type: 'integer' as const },
  },
});
/** The per-IP limit of signup, reset request, verification and Google/GitHub sign-in (each its own budget). */
export const perIpLimit =
  'more than 10 requests to this route from one client address (IPv6: its /64) in 15 minutes';
/** A 6-digit TOTP code or a backup code (xxxx-xxxx-xxxx-xxxx); ASCII only, no spaces (the mfa domain's shapes). */
export const mfaCodeField = z
  .string()
  .max(32)
  .regex(MFA_CODE_PATTERN, 'must be a 6-digit code or a backup code');
/** Only a 6-digit TOTP code (enrolment is confirmed by the authenticator app, not a backup code). */
export const totpCodeField = z.string().max(32).regex(TOTP_CODE_PATTERN, 'must be a 6-digit code');
