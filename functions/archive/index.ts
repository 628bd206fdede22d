import { cloudEvent } from '@google-cloud/functions-framework';
import { recordingsDeps } from '../../shared/runtime/recordings.js';
import { archiveFunction } from './handlers.js';

cloudEvent(
  'archive',
  archiveFunction(async () => {
    const d = await recordingsDeps();
    return { platform: d.platform, archiver: d.archiver, sweep: d.sweep, purge: d.purge };
  }),
);
