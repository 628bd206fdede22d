import { z } from 'zod';

/** Field schemas shared by several routes, so every route states the same limits. */
export const emailField = z.email({ message: 'must be an email address' }).max(254);
/** Raw input cap; the password rules (12–256 characters after NFC) are the domain's. */
export const passwordField = z.string().min(1).max(1024);
export const tokenField = z.string().min(1).max(256);
export const statusOnly = (status: string) => z.object({ status: z.literal(status) });
/** A 6-digit TOTP code or a backup code (xxxx-xxxx-xxxx-xxxx); ASCII only, no spaces. */
export const mfaCodeField = z
  .string()
  .max(32)
  .regex(/^(?:[0-9]{6}|[a-zA-Z2-7]{4}(?:-?[a-zA-Z2-7]{4}){3})$/, 'must be a 6-digit code or a backup code');
/** Only a 6-digit TOTP code (enrolment is confirmed by the authenticator app, not a backup code). */
export const totpCodeField = z
  .string()
  .max(32)
  .regex(/^[0-9]{6}$/, 'must be a 6-digit code');
