import type { KeyRing } from '../crypto/seal.js';
import { keyBytes, type SecretStore } from '../secrets/secrets.js';

/**
 * The key ring TOTP secrets are sealed with. Each row stores the key id it was sealed under, so a
 * rotation adds a new current key here and re-seals the rows still naming the old one.
 */
export const MFA_KEY_ID = 'mfa1';

export async function mfaKeyRing(secrets: SecretStore): Promise<KeyRing> {
  return {
    currentKeyId: MFA_KEY_ID,
    keys: new Map([[MFA_KEY_ID, await keyBytes(secrets, 'mfa-encryption-key')]]),
  };
}
