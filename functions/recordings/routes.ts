import type { AnyRoute } from '../../shared/http/route.js';
import type { Deps } from './deps.js';
import { appendFrames } from './routes/append-frames.js';
import { asciinemaUpload } from './routes/asciinema-upload.js';
import { listRecordings } from './routes/list-recordings.js';
import { playbackUrl } from './routes/playback-url.js';
import { serveBlob } from './routes/serve-blob.js';
import { startRecording } from './routes/start-recording.js';
import { stopRecording } from './routes/stop-recording.js';

export const recordingsRoutes: AnyRoute<Deps>[] = [
  asciinemaUpload,
  startRecording,
  listRecordings,
  appendFrames,
  stopRecording,
  playbackUrl,
  serveBlob,
];
