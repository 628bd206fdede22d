import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedSecrets, type SecretName, type SecretStore, secretSpecs } from './secrets.js';

/**
 * Embedded-mode secrets: `SECRET_<NAME>` from the environment (e.g. SECRET_PASSWORD_PEPPER), else a
 * file under `<dataDir>/secrets/`, generated with mode 0600 on first use where it can be generated.
 */
export function localSecrets(dataDir: string | null, env: Record<string, string | undefined>): SecretStore {
  const generatedInMemory = new Map<SecretName, string>();
  return cachedSecrets(async (name) => {
    const fromEnv = env[`SECRET_${name.toUpperCase().replaceAll('-', '_')}`];
    if (fromEnv) return fromEnv;
    const spec = secretSpecs[name];
    if (dataDir === null) {
      if (!spec.generate) throw new Error(`secret ${name} is not set`);
      const value = generatedInMemory.get(name) ?? spec.generate();
      generatedInMemory.set(name, value);
      return value;
    }
    const dir = join(dataDir, 'secrets');
    const file = join(dir, name);
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !spec.generate) {
        throw new Error(
          `secret ${name} is not set (SECRET_${name.toUpperCase().replaceAll('-', '_')} or ${file})`,
        );
      }
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const value = spec.generate();
    try {
      writeFileSync(file, value, { mode: 0o600, flag: 'wx' });
    } catch {
      // Another instance wrote it first: use theirs.
      return readFileSync(file, 'utf8').trim();
    }
    chmodSync(file, 0o600);
    return value;
  });
}
