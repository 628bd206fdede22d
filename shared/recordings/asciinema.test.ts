import { describe, expect, it } from 'vitest';
import { readAsciicast, streamAsciicast } from './asciinema.js';

const read = (text: string) => readAsciicast(Buffer.from(text));

describe('readAsciicast', () => {
  it('keeps a v2 file’s size and title and passes its event lines on unchanged', () => {
    const result = read('{"version":2,"width":80,"height":24,"title":" demo "}\n[0.1,"o","hi"]\n');
    expect(result).toEqual({
      ok: true,
      cast: { width: 80, height: 24, title: 'demo', events: Buffer.from('[0.1,"o","hi"]\n') },
    });
  });

  it('turns v1 delays into v2 output events at the running total', () => {
    const result = read(
      JSON.stringify({
        version: 1,
        width: 10,
        height: 5,
        stdout: [
          [0.5, 'a'],
          [0.25, 'b'],
        ],
      }),
    );
    expect(result.ok && result.cast.events.toString()).toBe('[0.5,"o","a"]\n[0.75,"o","b"]');
    expect(result.ok && result.cast.title).toBeNull();
  });

  it('refuses a v1 file whose frames are not [delay, data] with a non-negative delay', () => {
    const bad = read(JSON.stringify({ version: 1, width: 10, height: 5, stdout: [[-1, 'a']] }));
    expect(bad).toEqual({ ok: false, message: 'The asciicast v1 file is malformed.' });
  });

  it('refuses a header without an integer width and height from 1 to 1000', () => {
    expect(read('{"version":2,"width":0,"height":24}\n')).toEqual({
      ok: false,
      message: 'The asciicast header needs an integer width and height (1-1000).',
    });
  });

  it('refuses text, other JSON and other versions as not an asciicast', () => {
    for (const text of ['hello\n', '[1,2,3]', '{"version":3,"width":80,"height":24}\n', '']) {
      expect(read(text)).toEqual({ ok: false, message: 'The file is not an asciicast (v1 or v2).' });
    }
  });
});

describe('streamAsciicast', () => {
  async function stream(pieces: string[], batchBytes: number) {
    const batches: string[] = [];
    let header: unknown = null;
    const refused = await streamAsciicast(
      (async function* () {
        for (const piece of pieces) yield Buffer.from(piece);
      })(),
      {
        header: async (h) => {
          header = h;
          return null;
        },
        events: async (frames) => {
          batches.push(frames.data.toString());
          return null;
        },
      },
      batchBytes,
    );
    return { refused, header, batches };
  }
  const event = (t: number) => `${JSON.stringify([t, 'o', 'abcdefgh'])}\n`;

  it('cuts a v2 file at line ends into batches of at most the batch size, whatever the pieces it arrives in', async () => {
    const text = `{"version":2,"width":80,"height":24}\n${[0, 1, 2, 3, 4].map(event).join('')}`;
    const pieces = text.match(/.{1,7}/gs) ?? [];
    const { refused, header, batches } = await stream(pieces, 2 * event(0).length);
    expect(refused).toBeNull();
    expect(header).toEqual({ width: 80, height: 24, title: null });
    expect(batches).toEqual([event(0) + event(1), event(2) + event(3), event(4)]);
  });

  it('numbers a bad line by the file’s lines and refuses time going back across batches', async () => {
    const text = `{"version":2,"width":80,"height":24}\n${event(5)}${event(6)}${event(1)}`;
    const { refused } = await stream([text], 40); // the header fits; events 5 and 6 fill the first batch
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'line 4' }] });
  });

  it('refuses a line longer than the batch size, and a file without a v2 header line longer than it', async () => {
    const long = await stream([`{"version":2,"width":80,"height":24}\n`, 'x'.repeat(100)], 64);
    expect(long.refused).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const whole = await stream(['{\n  "version": 1,\n', ' '.repeat(100)], 64);
    expect(whole.refused).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('reads a v1 document whole and passes on its converted events', async () => {
    const v1 = JSON.stringify({ version: 1, width: 10, height: 5, stdout: [[0.5, 'a']] }, null, 2);
    const { refused, batches } = await stream([v1], 4096);
    expect(refused).toBeNull();
    expect(batches).toEqual(['[0.5,"o","a"]\n']);
  });
});
