import { openBucket } from '../blob/buckets.js';
import type { BlobStore } from '../blob/store.js';
import { Archiver } from '../recordings/archiver.js';
import type { FrameBuffer } from '../recordings/frame-buffer.js';
import { PlaybackLinks } from '../recordings/playback.js';
import { PostgresFrameBuffer } from '../recordings/postgres-frame-buffer.js';
import { PurgedOrgRecordings } from '../recordings/purge.js';
import { RecordingService } from '../recordings/service.js';
import { RecordingSweep } from '../recordings/sweep.js';
import { keyBytes } from '../secrets/secrets.js';
import { type Platform, perPlatform } from './platform.js';

/** The recordings domain over the platform, shared by the recordings and archive units. */
export interface RecordingsDeps {
  platform: Platform;
  buffer: FrameBuffer;
  blobs: BlobStore;
  recordings: RecordingService;
  archiver: Archiver;
  sweep: RecordingSweep;
  purge: PurgedOrgRecordings;
  playback: PlaybackLinks;
  blobUrlKey: () => Promise<Buffer>;
}

/** The frame buffer follows FAST_STATE_STORE: Firestore in production, unlogged tables embedded. */
async function frameBuffer(p: Platform): Promise<FrameBuffer> {
  if (p.config.fastStateStore === 'postgres') return new PostgresFrameBuffer(p.db);
  const { Firestore } = await import('@google-cloud/firestore');
  const { FirestoreFrameBuffer } = await import('../recordings/firestore-frame-buffer.js');
  return new FirestoreFrameBuffer(
    new Firestore({ projectId: p.config.googleCloudProject, ignoreUndefinedProperties: true }),
  );
}

export const recordingsDeps = perPlatform(async (p): Promise<RecordingsDeps> => {
  const buffer = await frameBuffer(p);
  const blobs = await openBucket(p.config, 'recordings');
  let urlKey: Promise<Buffer> | undefined;
  const blobUrlKey = () => {
    urlKey ??= keyBytes(p.secrets, 'blob-url-key');
    return urlKey;
  };
  const recordings = new RecordingService({ db: p.db, buffer, maxBytes: p.config.recordingMaxBytes });
  return {
    platform: p,
    buffer,
    blobs,
    recordings,
    archiver: new Archiver({ db: p.db, buffer, blobs, logger: p.logger }),
    sweep: new RecordingSweep({
      db: p.db,
      buffer,
      recordings,
      logger: p.logger,
      idleStopMinutes: p.config.recordingIdleStopMinutes,
    }),
    purge: new PurgedOrgRecordings({ db: p.db, blobs, buffer, logger: p.logger }),
    playback: new PlaybackLinks({ blobs, appUrl: p.config.appUrl, localKey: blobUrlKey }),
    blobUrlKey,
  };
});
