import { type Failure, fail } from '../errors/codes.js';
import { bytesInWords } from '../errors/sizes.js';
import { FRAME_BATCH_MAX_BYTES, type ParsedFrames, parseFrames } from './model.js';

/**
 * asciinema uploads: an asciicast file, v2 (header line + NDJSON events) or v1 (one JSON
 * document with `stdout: [[delay, data], ...]`), normalized to a v2 header and event lines.
 */
export interface CastHeader {
  width: number;
  height: number;
  title: string | null;
}

export interface UploadedCast {
  width: number;
  height: number;
  title: string | null;
  /** NDJSON asciicast v2 events, validated later by parseFrames like streamed frames. */
  events: Buffer;
}

export type CastResult = { ok: true; cast: UploadedCast } | { ok: false; message: string };

const NOT_A_CAST = 'The file is not an asciicast (v1 or v2).';

const isSize = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1000;

function header(doc: Record<string, unknown>): CastHeader | null {
  if (!isSize(doc.width) || !isSize(doc.height)) return null;
  const title =
    typeof doc.title === 'string' && doc.title.trim() !== '' ? doc.title.trim().slice(0, 150) : null;
  return { width: doc.width, height: doc.height, title };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** v1 delays are relative to the previous frame; v2 times are absolute, so they are summed. */
function convertV1(stdout: unknown): string | null {
  if (!Array.isArray(stdout)) return null;
  let time = 0;
  const lines: string[] = [];
  for (const frame of stdout) {
    if (!Array.isArray(frame) || frame.length !== 2) return null;
    const [delay, data] = frame as [unknown, unknown];
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || typeof data !== 'string')
      return null;
    time += delay;
    lines.push(JSON.stringify([Number(time.toFixed(6)), 'o', data]));
  }
  return lines.join('\n');
}

export function readAsciicast(file: Buffer): CastResult {
  const text = file.toString('utf8');
  const newline = text.indexOf('\n');
  const first = parseJson(newline === -1 ? text : text.slice(0, newline));
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    const doc = first as Record<string, unknown>;
    if (doc.version === 2) {
      const size = header(doc);
      if (!size)
        return { ok: false, message: 'The asciicast header needs an integer width and height (1-1000).' };
      return {
        ok: true,
        cast: { ...size, events: Buffer.from(newline === -1 ? '' : text.slice(newline + 1)) },
      };
    }
  }
  const whole = parseJson(text);
  if (typeof whole === 'object' && whole !== null && (whole as { version?: unknown }).version === 1) {
    const doc = whole as Record<string, unknown>;
    const size = header(doc);
    const events = convertV1(doc.stdout);
    if (!size || events === null) return { ok: false, message: 'The asciicast v1 file is malformed.' };
    return { ok: true, cast: { ...size, events: Buffer.from(events) } };
  }
  return { ok: false, message: NOT_A_CAST };
}

/** Where a streamed cast goes: its header once, then its events in validated batches. */
export interface CastSink {
  header(header: CastHeader): Promise<Failure | null>;
  events(frames: ParsedFrames): Promise<Failure | null>;
}

const eventsInvalid = (frames: { issues: Array<{ path: string; message: string }> }) =>
  fail('VALIDATION_FAILED', `The asciicast events are not valid: ${frames.issues[0]?.message ?? ''}`, {
    issues: frames.issues,
  });

/**
 * Reads an asciicast as it arrives and hands it on in pieces, so an upload is never held whole.
 * A v2 file (its first line a v2 header) is cut at line ends into batches of at most `batchBytes`
 * (an event line longer than that is refused), each validated against the one before (time never
 * goes back; line numbers count the file's lines, the header being line 1). A file whose first
 * line is no v2 header can only be v1 (one JSON document), which is read whole, so it may hold at
 * most `batchBytes`. The sink can refuse at any point; reading stops there.
 */
export async function streamAsciicast(
  file: AsyncIterable<Buffer>,
  sink: CastSink,
  batchBytes = FRAME_BATCH_MAX_BYTES,
): Promise<Failure | null> {
  const reader = new CastReader(sink, batchBytes);
  for await (const chunk of file) {
    const refused = await reader.push(chunk);
    if (refused) return refused;
  }
  return reader.end();
}

class CastReader {
  /** `first`: before the first line ends; `v2`: events line by line; `whole`: a v1 document. */
  private mode: 'first' | 'v2' | 'whole' = 'first';
  /** The first line so far (`first`), the line in progress (`v2`) or the whole file (`whole`). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private batchHasEvent = false;
  /** The file line number of the batch's first line, and of the next line to arrive (v1: the event's). */
  private batchLine = 1;
  private nextLine = 1;
  private lastTime: number | undefined;
  private sawEvents = false;

  constructor(
    private readonly sink: CastSink,
    private readonly maxBytes: number,
  ) {}

  async push(chunk: Buffer): Promise<Failure | null> {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.mode === 'whole') return this.hold(rest, tooBigForWhole(this.maxBytes));
      const newline = rest.indexOf(10);
      const piece = newline === -1 ? rest : rest.subarray(0, newline + 1);
      rest = newline === -1 ? rest.subarray(rest.length) : rest.subarray(newline + 1);
      if (this.mode === 'first') {
        // A first line this long is no v2 header, so the file would have to be read whole.
        const overLimit = this.hold(piece, tooBigForWhole(this.maxBytes));
        if (overLimit) return overLimit;
        if (newline === -1) continue;
        const refused = await this.firstLine();
        if (refused) return refused;
        continue;
      }
      const overLimit = this.hold(piece, lineTooLong(this.maxBytes));
      if (overLimit) return overLimit;
      if (newline !== -1) {
        const refused = await this.line(this.take());
        if (refused) return refused;
      }
    }
    return null;
  }

  async end(): Promise<Failure | null> {
    if (this.mode === 'v2') {
      if (this.heldBytes > 0) {
        const refused = await this.line(this.take());
        if (refused) return refused;
      }
    } else {
      const cast = readAsciicast(this.take());
      if (!cast.ok) return fail('VALIDATION_FAILED', cast.message);
      const refused = await this.sink.header(cast.cast);
      if (refused) return refused;
      this.mode = 'v2';
      const { events } = cast.cast;
      const pushed = await this.push(events);
      if (pushed) return pushed;
      if (this.heldBytes > 0) {
        const last = await this.line(this.take());
        if (last) return last;
      }
    }
    const refused = await this.flush();
    if (refused) return refused;
    return this.sawEvents ? null : fail('VALIDATION_FAILED', 'The asciicast has no events.');
  }

  private hold(piece: Buffer, overLimit: Failure): Failure | null {
    this.held.push(piece);
    this.heldBytes += piece.length;
    return this.heldBytes > this.maxBytes ? overLimit : null;
  }

  private take(): Buffer {
    const whole = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    return whole;
  }

  /** A v2 header starts the event lines; anything else makes the file a v1 document, held whole. */
  private async firstLine(): Promise<Failure | null> {
    const doc = parseJson(Buffer.concat(this.held, this.heldBytes).toString('utf8'));
    if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== 2) {
      this.mode = 'whole';
      return null;
    }
    this.take();
    const size = header(doc as Record<string, unknown>);
    if (!size) {
      return fail('VALIDATION_FAILED', 'The asciicast header needs an integer width and height (1-1000).');
    }
    this.mode = 'v2';
    this.nextLine = 2;
    return this.sink.header(size);
  }

  private async line(line: Buffer): Promise<Failure | null> {
    if (this.batchBytes + line.length > this.maxBytes) {
      const refused = await this.flush();
      if (refused) return refused;
    }
    if (this.batch.length === 0) this.batchLine = this.nextLine;
    this.batch.push(line);
    this.batchBytes += line.length;
    this.nextLine += 1;
    if (!this.batchHasEvent && line.toString('utf8').trim() !== '') this.batchHasEvent = true;
    return null;
  }

  private async flush(): Promise<Failure | null> {
    const batch = Buffer.concat(this.batch, this.batchBytes);
    const hasEvent = this.batchHasEvent;
    this.batch = [];
    this.batchBytes = 0;
    this.batchHasEvent = false;
    if (!hasEvent) return null;
    const frames = parseFrames(batch, {
      lineOffset: this.batchLine - 1,
      ...(this.lastTime === undefined ? {} : { notBefore: this.lastTime }),
    });
    if (!frames.ok) return eventsInvalid(frames);
    this.lastTime = frames.lastTime;
    this.sawEvents = true;
    return this.sink.events(frames);
  }
}

const lineTooLong = (maxBytes: number) =>
  fail(
    'PAYLOAD_TOO_LARGE',
    `An asciicast line is longer than ${bytesInWords(maxBytes)}, the most one event may hold.`,
  );

const tooBigForWhole = (maxBytes: number) =>
  fail(
    'PAYLOAD_TOO_LARGE',
    `A file that does not start with an asciicast v2 header line is read whole as asciicast v1, which may hold at most ${bytesInWords(maxBytes)}.`,
  );
