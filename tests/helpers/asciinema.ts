import type { TestApp } from './app.js';

export const ASCIINEMA_UPLOAD_PATH = '/api/recordings/asciinema/api/asciicasts';

/** A multipart/form-data body with one file field, shaped like the asciinema CLI's upload. */
export function multipartBody(
  field: string,
  content: string | Buffer,
): { body: Buffer; contentType: string } {
  const boundary = 'sfBoundary7MA4YWxkTrZu0gW';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="ascii.cast"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POSTs a cast the way `asciinema upload` does: Basic auth with the install id as password. */
export function uploadCast(
  app: TestApp,
  cast: string | Buffer,
  opts: { password?: string; user?: string; field?: string; headers?: Record<string, string> } = {},
) {
  const { body, contentType } = multipartBody(opts.field ?? 'asciicast', cast);
  const headers: Record<string, string> = { ...opts.headers, 'content-type': contentType };
  if (opts.password !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${opts.user ?? 'alice'}:${opts.password}`).toString('base64')}`;
  }
  return app.request('POST', ASCIINEMA_UPLOAD_PATH, { raw: body, headers });
}

/** A small asciicast v2 file. */
export const v2Cast = (output: string[]) =>
  `${JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 1700000000, title: 'demo' })}\n${output
    .map((text, i) => JSON.stringify([i * 0.5, 'o', text]))
    .join('\n')}\n`;
