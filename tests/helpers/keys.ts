import { randomUUID } from 'node:crypto';
import { sha256 } from '../../shared/crypto/tokens.js';
import { displayPrefixOf, generateApiKey } from '../../shared/keys/format.js';
import { ApiKeyStore } from '../../shared/keys/store.js';
import type { OrgRole } from '../../shared/orgs/model.js';
import type { TestApp } from './app.js';

/**
 * Set-up only: an API key of `orgId` written straight to the store (no audit row), so matrix
 * tests can add an "API key" caller to any org route. The issuing flow has its own tests.
 * Fits the org matrix's `apiKeyOfOtherOrg` slot: `(app, otherOrgId) => Promise<string>`.
 */
export async function issueApiKey(
  app: TestApp,
  orgId: string,
  role: OrgRole = 'admin',
  expiresAt: Date | null = null,
): Promise<string> {
  const key = generateApiKey();
  const store = new ApiKeyStore(app.runtime.platform.db);
  await store.insert(app.runtime.platform.db, {
    id: randomUUID(),
    org_id: orgId,
    name: `test ${role} key`,
    role,
    key_hash: sha256(key),
    display_prefix: displayPrefixOf(key),
    created_by: null,
    created_at: app.runtime.platform.clock.now(),
    expires_at: expiresAt,
    last_used_at: null,
    revoked_at: null,
    revoked_by: null,
  });
  return key;
}
