import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { TestApp } from './app.js';

/** NDJSON for events `[time, "o", text]`. */
export const ndjson = (events: Array<[number, string, string]>) =>
  `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;

export function postFrames(
  app: TestApp,
  token: string,
  id: string,
  seq: number | null,
  body: string | Buffer,
) {
  return app.request('POST', `/api/recordings/${id}/frames`, {
    token,
    raw: body,
    headers: {
      'content-type': 'application/x-ndjson',
      ...(seq === null ? {} : { 'x-frame-seq': String(seq) }),
    },
  });
}

/** GETs a path without decoding Content-Encoding (fetch would gunzip silently). */
export function rawGet(
  app: TestApp,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${app.url}${path}`, { method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Parses an asciicast v2 file the way asciinema reads one: a header object, then one event tuple per line. */
export function parseAsciicast(gzipped: Buffer): { header: Record<string, unknown>; events: unknown[][] } {
  const lines = gunzipSync(gzipped).toString('utf8').split('\n');
  if (lines.at(-1) !== '') throw new Error('an asciicast ends with a newline');
  lines.pop();
  const header = JSON.parse(lines[0] ?? 'null') as Record<string, unknown>;
  const events = lines.slice(1).map((line) => JSON.parse(line) as unknown[]);
  return { header, events };
}
