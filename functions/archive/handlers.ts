import type { CloudEvent } from '@google-cloud/functions-framework';
import { consumer, type TopicHandlers } from '../../shared/bus/consumer.js';
import { parseEnvelope } from '../../shared/bus/envelope.js';
import type { Archiver } from '../../shared/recordings/archiver.js';
import type { PurgedOrgRecordings } from '../../shared/recordings/purge.js';
import type { RecordingSweep } from '../../shared/recordings/sweep.js';
import type { Platform } from '../../shared/runtime/platform.js';

export interface ArchiveDeps {
  platform: Platform;
  archiver: Archiver;
  sweep: RecordingSweep;
  purge: PurgedOrgRecordings;
}

export function archiveHandlers(deps: ArchiveDeps): TopicHandlers {
  return {
    'recording-stopped': (envelope, tx) =>
      deps.archiver.archive(envelope.data.recordingId, tx, deps.platform.clock.now()),
    // The sweep runs once the tick is claimed, outside the tick's transaction: each recording
    // gets its own (a stop commits with its audit row and outbox event, and on PGlite the tick's
    // transaction holds the only connection). A crash mid-sweep is picked up by the next tick.
    'recordings-sweep': async () => {
      const now = deps.platform.clock.now();
      return async () => {
        await deps.sweep.sweep(now);
        await deps.purge.purge();
      };
    },
  };
}

/**
 * The archive unit's CloudEvent function: the shared consumer, plus a count of failed deliveries
 * per recording (kept outside the rolled-back transaction) so a recording that keeps failing ends
 * `failed` while its message goes on to the dead-letter topic.
 */
export function archiveFunction(deps: () => Promise<ArchiveDeps>) {
  return async (event: CloudEvent<unknown>): Promise<void> => {
    const d = await deps();
    try {
      await consumer('archive', archiveHandlers(d), async () => d.platform)(event);
    } catch (error) {
      const recordingId = recordingIdOf(event);
      if (recordingId) {
        const attempts = await d.archiver.recordFailure(recordingId, error);
        d.platform.logger.warn('archive attempt failed', { recordingId, attempts });
      }
      throw error;
    }
  };
}

function recordingIdOf(event: CloudEvent<unknown>): string | null {
  const data = (event.data as { message?: { data?: string } } | undefined)?.message?.data;
  if (!data) return null;
  try {
    const parsed = parseEnvelope(
      'recording-stopped',
      JSON.parse(Buffer.from(data, 'base64').toString('utf8')),
    );
    return parsed.ok ? parsed.envelope.data.recordingId : null;
  } catch {
    return null;
  }
}
