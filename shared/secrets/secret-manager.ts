import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { cachedSecrets, type SecretStore } from './secrets.js';

/** Production secrets: the latest version of `projects/<project>/secrets/<name>`. */
export function secretManagerSecrets(client: SecretManagerServiceClient, project: string): SecretStore {
  return cachedSecrets(async (name) => {
    const [version] = await client.accessSecretVersion({
      name: `projects/${project}/secrets/${name}/versions/latest`,
    });
    const data = version.payload?.data;
    if (!data) throw new Error(`secret ${name} has no payload`);
    return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  });
}
