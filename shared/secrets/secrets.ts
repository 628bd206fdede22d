import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Secret } from '../crypto/secret.js';

/**
 * Every secret the services read, with how the embedded runtime makes one on first start.
 * Production values live in Secret Manager under the same names (infra/secrets.tf).
 */
export const secretSpecs = {
  'password-pepper': { generate: () => randomBytes(32).toString('base64') },
  'mail-seal-key': { generate: () => randomBytes(32).toString('base64') },
  'mfa-encryption-key': { generate: () => randomBytes(32).toString('base64') },
  'blob-url-key': { generate: () => randomBytes(32).toString('base64') },
  'oauth-state-key': { generate: () => randomBytes(32).toString('base64') },
  /** Seals per-org OIDC client secrets in the database (AES-256-GCM, org id as associated data). */
  'sso-seal-key': { generate: () => randomBytes(32).toString('base64') },
  /** Seals webhook signing secrets and provider headers (AES-256-GCM, endpoint id as associated data). */
  'webhook-seal-key': { generate: () => randomBytes(32).toString('base64') },
  'audit-signing-key': {
    generate: () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  },
  /** SMTP connection URL for notify (smtp://user:pass@host:587); not needed in embedded mode. */
  'smtp-url': { generate: null },
} as const;

export type SecretName = keyof typeof secretSpecs;

export interface SecretStore {
  /** Reads a secret; each value is read once per instance and cached. */
  get(name: SecretName): Promise<Secret<string>>;
}

/** Caches each secret for the life of the instance (rotations reach new instances). */
export function cachedSecrets(read: (name: SecretName) => Promise<string>): SecretStore {
  const cache = new Map<SecretName, Promise<Secret<string>>>();
  return {
    get(name) {
      let value = cache.get(name);
      if (!value) {
        value = read(name).then((raw) => new Secret(raw));
        value.catch(() => cache.delete(name));
        cache.set(name, value);
      }
      return value;
    },
  };
}

/** A 32-byte key from a base64 secret, refusing anything shorter so a typo cannot weaken it. */
export async function keyBytes(secrets: SecretStore, name: SecretName): Promise<Buffer> {
  const key = Buffer.from((await secrets.get(name)).reveal(), 'base64');
  if (key.length !== 32) throw new Error(`secret ${name} must be 32 bytes of base64`);
  return key;
}
