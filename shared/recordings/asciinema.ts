/**
 * asciinema uploads: a whole asciicast file, v2 (header line + NDJSON events) or v1 (one JSON
 * document with `stdout: [[delay, data], ...]`), normalized to a v2 header and event lines.
 */
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

function header(
  doc: Record<string, unknown>,
): { width: number; height: number; title: string | null } | null {
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
