import { z } from 'zod';

/** Field schemas shared by several routes, so every route states the same limits. */
export const emailField = z.email({ message: 'must be an email address' }).max(254);
/** Raw input cap; the password rules (12–256 characters after NFC) are the domain's. */
export const passwordField = z.string().min(1).max(1024);
export const tokenField = z.string().min(1).max(256);
export const statusOnly = (status: string) => z.object({ status: z.literal(status) });
