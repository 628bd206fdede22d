import { retiredPublicKey, signingKeys, trustedKeyRing } from '../../shared/audit/checkpoint.js';
import { CheckpointStore } from '../../shared/audit/checkpoints.js';
import { AuditService } from '../../shared/audit/service.js';
import { openBucket } from '../../shared/blob/buckets.js';
import { type Platform, perPlatform } from '../../shared/runtime/platform.js';

/** What the HTTP routes need. */
export interface AuditRouteDeps {
  audit: AuditService;
}

export interface AuditDeps extends AuditRouteDeps {
  platform: Platform;
  /** The signed checkpoints in the bucket (the restore drill verifies copies against them). */
  checkpoints: CheckpointStore;
}

/** The audit services over the platform, shared by the HTTP unit and the consumer unit. */
export const auditDeps = perPlatform(async (p): Promise<AuditDeps> => {
  let keys: ReturnType<typeof signingKeys> | undefined;
  const loadKeys = async () => {
    keys ??= signingKeys((await p.secrets.get('audit-signing-key')).reveal());
    return keys;
  };
  const retired = p.config.auditRetiredPublicKeys.map(retiredPublicKey);
  const checkpoints = new CheckpointStore(await openBucket(p.config, 'auditCheckpoints'), async () =>
    trustedKeyRing(await loadKeys(), retired),
  );
  return {
    platform: p,
    checkpoints,
    audit: new AuditService({ db: p.db, checkpoints, keys: loadKeys, logger: p.logger }),
  };
});
