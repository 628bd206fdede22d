import type { BlobStore } from '../blob/store.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import type { FrameBuffer } from './frame-buffer.js';
import './tables.js';
import '../orgs/tables.js';

/** At most this many recordings per run, so one run stays well inside its deadline. */
const PURGE_BATCH = 200;

/**
 * The recordings of purged orgs (shared/orgs/deletion.ts): their archived object, their frame
 * buffer and then their row, in that order, so a failure part way leaves the row for the next
 * hourly run. Runs in the archive unit, the one unit allowed to delete from the recordings bucket.
 */
export class PurgedOrgRecordings {
  constructor(private readonly deps: { db: Db; blobs: BlobStore; buffer: FrameBuffer; logger: Logger }) {}

  async purge(): Promise<{ recordingsPurged: number; purgeFailures: number }> {
    const { db, blobs, buffer, logger } = this.deps;
    const rows = await db
      .selectFrom('recordings')
      .innerJoin('orgs', 'orgs.id', 'recordings.org_id')
      .select(['recordings.id', 'recordings.blob_key'])
      .where('orgs.purged_at', 'is not', null)
      .limit(PURGE_BATCH)
      .execute();
    let recordingsPurged = 0;
    let purgeFailures = 0;
    for (const row of rows) {
      try {
        if (row.blob_key) await blobs.delete(row.blob_key);
        await buffer.discard(row.id);
        await db.deleteFrom('recordings').where('id', '=', row.id).execute();
        recordingsPurged++;
      } catch (error) {
        purgeFailures++;
        logger.error('purging a deleted org recording failed', { recordingId: row.id, error });
      }
    }
    if (rows.length > 0)
      logger.info('purged recordings of deleted orgs', { recordingsPurged, purgeFailures });
    return { recordingsPurged, purgeFailures };
  }
}
