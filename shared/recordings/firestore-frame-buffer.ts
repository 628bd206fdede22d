import type { Firestore } from '@google-cloud/firestore';
import type { AppendOutcome, FrameBuffer, FrameChunk } from './frame-buffer.js';

export const RECORDINGS_COLLECTION = 'recordings';
/** A document holds at most 1 MiB, so a chunk (≤ 4 MiB) is split into parts of this size. */
const PART_BYTES = 768 * 1024;
const PAGE_PARTS = 4;
const DELETE_BATCH = 200;

const PARTS_PER_SEQ = 1000;
const partId = (seq: number, part: number) =>
  `${String(seq).padStart(13, '0')}-${String(part).padStart(3, '0')}`;

/**
 * The production frame buffer: head doc `recordings/{id}` ({bytes, sealed}) and chunk documents
 * `recordings/{id}/chunks/{seq}-{part}`. A transaction reads the head, the seq and its neighbours,
 * so concurrent appends to one recording serialize on the head document.
 */
export class FirestoreFrameBuffer implements FrameBuffer {
  constructor(private readonly firestore: Firestore) {}

  async append(recordingId: string, chunk: FrameChunk, capBytes: number): Promise<AppendOutcome> {
    try {
      return await this.#append(recordingId, chunk, capBytes);
    } catch (error) {
      // ALREADY_EXISTS: a concurrent append of the same seq committed first.
      if ((error as { code?: number }).code === 6) return { kind: 'duplicate' };
      throw error;
    }
  }

  #append(recordingId: string, chunk: FrameChunk, capBytes: number): Promise<AppendOutcome> {
    const head = this.#head(recordingId);
    const chunks = head.collection('chunks');
    return this.firestore.runTransaction(async (tx): Promise<AppendOutcome> => {
      const headSnap = await tx.get(head);
      const same = await tx.get(chunks.where('seq', '==', chunk.seq).limit(1));
      if (!same.empty) return { kind: 'duplicate' };
      if (headSnap.get('sealed') === true) return { kind: 'sealed' };
      const held = Number(headSnap.get('bytes') ?? 0);
      const bytes = held + chunk.data.length;
      if (bytes > capBytes) return { kind: 'over_cap', bytes: held };
      const previous = await tx.get(chunks.where('seq', '<', chunk.seq).orderBy('seq', 'desc').limit(1));
      const previousLast = previous.docs[0]?.get('lastTime') as number | undefined;
      if (previousLast !== undefined && previousLast > chunk.firstTime) {
        return { kind: 'time_goes_back', against: 'previous' };
      }
      const next = await tx.get(chunks.where('seq', '>', chunk.seq).orderBy('seq', 'asc').limit(1));
      const nextFirst = next.docs[0]?.get('firstTime') as number | undefined;
      if (nextFirst !== undefined && nextFirst < chunk.lastTime)
        return { kind: 'time_goes_back', against: 'next' };
      const parts = Math.max(1, Math.ceil(chunk.data.length / PART_BYTES));
      for (let part = 0; part < parts; part++) {
        tx.create(chunks.doc(partId(chunk.seq, part)), {
          seq: chunk.seq,
          part,
          parts,
          // One sortable number for (seq, part): seqs stay below 2^40, so this stays below 2^53.
          pos: chunk.seq * PARTS_PER_SEQ + part,
          firstTime: chunk.firstTime,
          lastTime: chunk.lastTime,
          data: chunk.data.subarray(part * PART_BYTES, (part + 1) * PART_BYTES),
        });
      }
      tx.set(head, { bytes, sealed: false }, { merge: true });
      return { kind: 'appended', bytes };
    });
  }

  async seal(recordingId: string): Promise<void> {
    await this.#head(recordingId).set({ sealed: true }, { merge: true });
  }

  async *read(recordingId: string): AsyncIterable<Buffer> {
    const chunks = this.#head(recordingId).collection('chunks');
    let after = -1;
    for (;;) {
      const page = await chunks.where('pos', '>', after).orderBy('pos').limit(PAGE_PARTS).get();
      if (page.empty) return;
      for (const doc of page.docs) yield Buffer.from(doc.get('data') as Uint8Array);
      after = page.docs[page.docs.length - 1]?.get('pos') as number;
    }
  }

  async discard(recordingId: string): Promise<void> {
    const head = this.#head(recordingId);
    // recursiveDelete would do this, but page-wise batches keep each commit small.
    for (;;) {
      const page = await head.collection('chunks').limit(DELETE_BATCH).select().get();
      if (page.empty) break;
      const batch = this.firestore.batch();
      for (const doc of page.docs) batch.delete(doc.ref);
      await batch.commit();
    }
    await head.delete();
  }

  #head(recordingId: string) {
    return this.firestore.collection(RECORDINGS_COLLECTION).doc(recordingId);
  }
}
