import type { Tx } from '../bus/outbox.js';
import type { Db } from '../db/connect.js';
import type { AppendOutcome, FrameBuffer, FrameChunk } from './frame-buffer.js';
import './tables.js';

/** The embedded frame buffer: unlogged tables; the buffer row's lock makes each append atomic. */
export class PostgresFrameBuffer implements FrameBuffer {
  constructor(private readonly db: Db) {}

  append(recordingId: string, chunk: FrameChunk, capBytes: number): Promise<AppendOutcome> {
    return this.db.transaction().execute(async (tx): Promise<AppendOutcome> => {
      const head = await lockHead(tx, recordingId);
      const existing = await tx
        .selectFrom('recording_chunks')
        .select('seq')
        .where('recording_id', '=', recordingId)
        .where('seq', '=', chunk.seq)
        .executeTakeFirst();
      if (existing) return { kind: 'duplicate' };
      if (head.sealed) return { kind: 'sealed' };
      const bytes = Number(head.bytes) + chunk.data.length;
      if (bytes > capBytes) return { kind: 'over_cap', bytes: Number(head.bytes) };
      const previous = await tx
        .selectFrom('recording_chunks')
        .select('last_time')
        .where('recording_id', '=', recordingId)
        .where('seq', '<', chunk.seq)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (previous && previous.last_time > chunk.firstTime)
        return { kind: 'time_goes_back', against: 'previous' };
      const next = await tx
        .selectFrom('recording_chunks')
        .select('first_time')
        .where('recording_id', '=', recordingId)
        .where('seq', '>', chunk.seq)
        .orderBy('seq', 'asc')
        .limit(1)
        .executeTakeFirst();
      if (next && next.first_time < chunk.lastTime) return { kind: 'time_goes_back', against: 'next' };
      await tx
        .insertInto('recording_chunks')
        .values({
          recording_id: recordingId,
          seq: chunk.seq,
          first_time: chunk.firstTime,
          last_time: chunk.lastTime,
          data: chunk.data.toString('utf8'),
        })
        .execute();
      await tx
        .updateTable('recording_buffers')
        .set({ bytes })
        .where('recording_id', '=', recordingId)
        .execute();
      return { kind: 'appended', bytes };
    });
  }

  async seal(recordingId: string): Promise<void> {
    await this.db
      .insertInto('recording_buffers')
      .values({ recording_id: recordingId, bytes: 0, sealed: true })
      .onConflict((oc) => oc.column('recording_id').doUpdateSet({ sealed: true }))
      .execute();
  }

  async *read(recordingId: string, within?: Tx): AsyncIterable<Buffer> {
    const executor = within ?? this.db;
    let after = -1;
    // One chunk (≤ 4 MiB) per query: keyset paging keeps memory flat without server cursors.
    for (;;) {
      const row = await executor
        .selectFrom('recording_chunks')
        .select(['seq', 'data'])
        .where('recording_id', '=', recordingId)
        .where('seq', '>', after)
        .orderBy('seq', 'asc')
        .limit(1)
        .executeTakeFirst();
      if (!row) return;
      after = Number(row.seq);
      yield Buffer.from(row.data, 'utf8');
    }
  }

  async discard(recordingId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('recording_chunks').where('recording_id', '=', recordingId).execute();
      await tx.deleteFrom('recording_buffers').where('recording_id', '=', recordingId).execute();
    });
  }
}

async function lockHead(tx: Tx, recordingId: string) {
  await tx
    .insertInto('recording_buffers')
    .values({ recording_id: recordingId, bytes: 0, sealed: false })
    .onConflict((oc) => oc.column('recording_id').doNothing())
    .execute();
  return tx
    .selectFrom('recording_buffers')
    .select(['bytes', 'sealed'])
    .where('recording_id', '=', recordingId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}
