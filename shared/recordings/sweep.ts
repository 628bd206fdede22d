import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import { discardBuffer } from './archiver.js';
import type { FrameBuffer } from './frame-buffer.js';
import { bufferDiscardDue, isIdle, sweepCutoffs } from './lifecycle.js';
import type { RecordingService } from './service.js';
import { archivedWithBufferLeft, quietRecordings } from './store.js';

/** At most this many recordings of each kind per run, so one run stays well inside its deadline. */
export const SWEEP_BATCH = 200;

export interface SweepReport {
  buffersDiscarded: number;
  discardFailures: number;
  idleStopped: number;
  stopFailures: number;
  /** A kind filled its batch: more may be waiting for the next run. */
  batchFull: boolean;
}

/**
 * The hourly `recordings-sweep` (archive unit): deletes the buffers of archived recordings that the
 * archive did not get to delete, and stops recordings whose client went quiet, so they are archived
 * like any stopped recording. `failed` and `archiving` recordings are left alone: their buffer is
 * the only copy of their frames. A recording that fails here is logged and tried again next run.
 */
export class RecordingSweep {
  constructor(
    private readonly deps: {
      db: Db;
      buffer: FrameBuffer;
      recordings: RecordingService;
      logger: Logger;
      /** RECORDING_IDLE_STOP_MINUTES */
      idleStopMinutes: number;
      batchSize?: number;
    },
  ) {}

  async sweep(now: Date): Promise<SweepReport> {
    const { db, logger, idleStopMinutes } = this.deps;
    const batch = this.deps.batchSize ?? SWEEP_BATCH;
    const cutoffs = sweepCutoffs(now, idleStopMinutes);
    const report: SweepReport = {
      buffersDiscarded: 0,
      discardFailures: 0,
      idleStopped: 0,
      stopFailures: 0,
      batchFull: false,
    };

    const leftovers = await archivedWithBufferLeft(db, cutoffs.archivedBefore, batch);
    for (const recording of leftovers.filter((r) => bufferDiscardDue(r, now))) {
      try {
        await discardBuffer(this.deps, recording.id, now);
        report.buffersDiscarded++;
      } catch (error) {
        report.discardFailures++;
        logger.error('sweep: deleting an archived buffer failed', { recordingId: recording.id, error });
      }
    }

    const quiet = await quietRecordings(db, cutoffs.idleBefore, batch);
    for (const recording of quiet.filter((r) => isIdle(r, now, idleStopMinutes))) {
      try {
        if (await this.deps.recordings.stopIdle(recording.id, now, idleStopMinutes)) report.idleStopped++;
      } catch (error) {
        report.stopFailures++;
        logger.error('sweep: stopping an idle recording failed', { recordingId: recording.id, error });
      }
    }

    report.batchFull = leftovers.length === batch || quiet.length === batch;
    const failed = report.discardFailures + report.stopFailures > 0;
    logger[failed ? 'warn' : 'info']('recordings sweep', { ...report });
    return report;
  }
}
