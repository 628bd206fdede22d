/** The identity of an email address for lookups: trimmed, NFC, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}
