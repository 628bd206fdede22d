import type { KeyRing } from '../crypto/seal.js';
import { keyBytes, type SecretStore } from '../secrets/secrets.js';

export const WEBHOOK_KEY_ID = 'wh1';

/** The key ring endpoint secrets and provider headers are sealed with. */
export async function webhookKeyRing(secrets: SecretStore): Promise<KeyRing> {
  return {
    currentKeyId: WEBHOOK_KEY_ID,
    keys: new Map([[WEBHOOK_KEY_ID, await keyBytes(secrets, 'webhook-seal-key')]]),
  };
}

/** Associated data: a sealed value copied onto another endpoint's row does not open there. */
export const secretContext = (endpointId: string) => `webhook-secret:${endpointId}`;
export const headersContext = (endpointId: string) => `webhook-headers:${endpointId}`;
