import { describe, expect, it } from 'vitest';
import { readAsciicast } from './asciinema.js';

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
