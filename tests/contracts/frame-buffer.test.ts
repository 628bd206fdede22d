import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirestoreFrameBuffer } from '../../shared/recordings/firestore-frame-buffer.js';
import type { FrameBuffer, FrameChunk } from '../../shared/recordings/frame-buffer.js';
import { PostgresFrameBuffer } from '../../shared/recordings/postgres-frame-buffer.js';
import { backendNames, type FastStateBackend, openBackend } from '../helpers/fast-state.js';

const MiB = 1024 * 1024;
const chunk = (seq: number, firstTime: number, lastTime: number, text = `seq ${seq}`): FrameChunk => ({
  seq,
  firstTime,
  lastTime,
  data: Buffer.from(`[${firstTime}, "o", ${JSON.stringify(text)}]\n[${lastTime}, "o", "."]\n`),
});

async function readAll(buffer: FrameBuffer, id: string): Promise<string> {
  const pieces: Buffer[] = [];
  for await (const piece of buffer.read(id)) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

describe.each(backendNames)('FrameBuffer contract on %s', (name) => {
  let backend: FastStateBackend;
  let buffer: FrameBuffer;
  beforeAll(async () => {
    backend = await openBackend(name);
    buffer =
      backend.kind === 'firestore'
        ? new FirestoreFrameBuffer(backend.firestore)
        : new PostgresFrameBuffer(backend.db);
  }, 180_000);
  afterAll(() => backend?.close());

  it('reads chunks back in seq order whatever order they arrived in', async () => {
    const id = randomUUID();
    expect((await buffer.append(id, chunk(2, 2, 3), MiB)).kind).toBe('appended');
    expect((await buffer.append(id, chunk(0, 0, 1), MiB)).kind).toBe('appended');
    expect((await buffer.append(id, chunk(1, 1, 2), MiB)).kind).toBe('appended');
    expect(await readAll(buffer, id)).toBe(
      [chunk(0, 0, 1), chunk(1, 1, 2), chunk(2, 2, 3)].map((c) => c.data.toString()).join(''),
    );
  });

  it('ignores a repeated seq, even with other content, and keeps the first', async () => {
    const id = randomUUID();
    await buffer.append(id, chunk(0, 0, 1, 'first'), MiB);
    expect(await buffer.append(id, chunk(0, 0, 1, 'second'), MiB)).toEqual({ kind: 'duplicate' });
    expect(await readAll(buffer, id)).toBe(chunk(0, 0, 1, 'first').data.toString());
  });

  it('refuses a chunk that would take the buffer past its cap and counts only what it holds', async () => {
    const id = randomUUID();
    const first = chunk(0, 0, 1);
    const cap = first.data.length + 10;
    expect(await buffer.append(id, first, cap)).toEqual({ kind: 'appended', bytes: first.data.length });
    expect(await buffer.append(id, chunk(1, 1, 2), cap)).toEqual({
      kind: 'over_cap',
      bytes: first.data.length,
    });
  });

  it('refuses a chunk whose times go back against its neighbours in seq order', async () => {
    const id = randomUUID();
    await buffer.append(id, chunk(5, 10, 20), MiB);
    expect(await buffer.append(id, chunk(6, 19, 30), MiB)).toEqual({
      kind: 'time_goes_back',
      against: 'previous',
    });
    expect(await buffer.append(id, chunk(4, 5, 11), MiB)).toEqual({
      kind: 'time_goes_back',
      against: 'next',
    });
    expect((await buffer.append(id, chunk(4, 5, 10), MiB)).kind).toBe('appended');
    expect((await buffer.append(id, chunk(6, 20, 30), MiB)).kind).toBe('appended');
  });

  it('takes nothing after a seal, yet still answers a repeated seq as a duplicate', async () => {
    const id = randomUUID();
    await buffer.append(id, chunk(0, 0, 1), MiB);
    await buffer.seal(id);
    await buffer.seal(id);
    expect(await buffer.append(id, chunk(1, 1, 2), MiB)).toEqual({ kind: 'sealed' });
    expect(await buffer.append(id, chunk(0, 0, 1), MiB)).toEqual({ kind: 'duplicate' });
  });

  it('keeps multi-megabyte chunks byte for byte and discards everything, twice without error', async () => {
    const id = randomUUID();
    const big = Buffer.alloc(3 * MiB + 123, 0x61);
    await buffer.append(id, { seq: 0, firstTime: 0, lastTime: 0, data: big }, 8 * MiB);
    await buffer.append(id, chunk(1, 1, 2), 8 * MiB);
    const read = Buffer.from(await readAll(buffer, id));
    expect(read.length).toBe(big.length + chunk(1, 1, 2).data.length);
    expect(read.subarray(0, big.length).equals(big)).toBe(true);
    await buffer.discard(id);
    await buffer.discard(id);
    expect(await readAll(buffer, id)).toBe('');
    expect((await buffer.append(id, chunk(0, 0, 1), MiB)).kind).toBe('appended');
  });

  it('lets concurrent appends of one seq store it exactly once', async () => {
    const id = randomUUID();
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => buffer.append(id, chunk(0, 0, 1), MiB)));
    expect(outcomes.filter((o) => o.kind === 'appended')).toHaveLength(1);
    expect(await readAll(buffer, id)).toBe(chunk(0, 0, 1).data.toString());
  });
});
