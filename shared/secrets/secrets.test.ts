import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSecrets } from './local-secrets.js';

describe('local secrets', () => {
  it('generates a secret on first use into a 0600 file and reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-secrets-'));
    const first = await localSecrets(dir, {}).get('password-pepper');
    const again = await localSecrets(dir, {}).get('password-pepper');
    expect(again.reveal()).toBe(first.reveal());
    expect(Buffer.from(first.reveal(), 'base64')).toHaveLength(32);
    const file = join(dir, 'secrets', 'password-pepper');
    expect(readFileSync(file, 'utf8')).toBe(first.reveal());
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('prefers SECRET_<NAME> from the environment', async () => {
    const secret = await localSecrets(null, { SECRET_PASSWORD_PEPPER: 'from-env' }).get('password-pepper');
    expect(secret.reveal()).toBe('from-env');
  });

  it('fails clearly for a secret that cannot be generated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-secrets-'));
    await expect(localSecrets(dir, {}).get('smtp-url')).rejects.toThrow(/SECRET_SMTP_URL/);
  });
});
