import type { RecordingStatus } from './model.js';

export interface RecordingsTable {
  id: string;
  org_id: string;
  title: string;
  width: number;
  height: number;
  machine_id: string | null;
  status: RecordingStatus;
  started_by_type: string;
  started_by_id: string | null;
  started_at: Date;
  stopped_at: Date | null;
  archived_at: Date | null;
  blob_key: string | null;
  bytes: number | null;
  sha256: string | null;
  archive_attempts: number;
  last_error: string | null;
  /** When the buffer last took a frame; written at most once a minute (lifecycle.ts). */
  last_frame_at: Date | null;
  /** When the buffer of an archived recording was confirmed gone; null until then. */
  buffer_discarded_at: Date | null;
}

export interface RecordingBuffersTable {
  recording_id: string;
  bytes: number;
  sealed: boolean;
}

export interface RecordingChunksTable {
  recording_id: string;
  seq: number;
  first_time: number;
  last_time: number;
  data: string;
}

declare module '../db/schema.js' {
  interface Database {
    recordings: RecordingsTable;
    recording_buffers: RecordingBuffersTable;
    recording_chunks: RecordingChunksTable;
  }
}
