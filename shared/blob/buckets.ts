import type { Config } from '../config/config.js';
import { LocalBlobStore } from './local.js';
import type { BlobStore } from './store.js';

export type BucketPurpose = 'auditCheckpoints' | 'recordings';

/** Local folder names for each purpose (production names come from config). */
const localNames: Record<BucketPurpose, string> = {
  auditCheckpoints: 'audit-checkpoints',
  recordings: 'recordings',
};

/** The store for one of the configured buckets: a DATA_DIR folder locally, Cloud Storage in production. */
export async function openBucket(config: Config, purpose: BucketPurpose): Promise<BlobStore> {
  if (config.blobStore === 'local') return new LocalBlobStore(config.dataDir, localNames[purpose]);
  const name = config.buckets[purpose];
  if (!name) throw new Error(`no bucket configured for ${purpose}`);
  const { Storage } = await import('@google-cloud/storage');
  const { GcsBlobStore } = await import('./gcs.js');
  return new GcsBlobStore(new Storage({ projectId: config.googleCloudProject }).bucket(name));
}
