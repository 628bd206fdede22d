import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { abandonBody } from '../../../shared/http/body.js';

export type MultipartOutcome<T> =
  | { kind: 'file'; value: T }
  | { kind: 'missing' }
  | { kind: 'malformed' }
  | { kind: 'too_large' };

/**
 * Streams one file field of a multipart/form-data request to `consume` while it arrives. Every
 * byte of the request counts against `limitBytes` as it comes in (a chunked body declares no
 * length), and nothing is held here beyond busboy's small window: `consume` reads the file at its
 * own pace and the socket waits for it. When `consume` returns before its file ended (it refused
 * the file), or the limit is passed, the rest of the request is left unread (answered with
 * `Connection: close` by the router).
 */
export function streamMultipartFile<T>(
  req: IncomingMessage,
  field: string,
  limitBytes: number,
  consume: (file: Readable) => Promise<T>,
): Promise<MultipartOutcome<T>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // Form fields are buffered by busboy: few and small, as the asciinema CLI sends none.
      parser = busboy({ headers: req.headers, limits: { fields: 10, fieldSize: 64 * 1024, parts: 20 } });
    } catch {
      resolve({ kind: 'malformed' });
      return;
    }
    let settled = false;
    let ended = false;
    let parserClosed = false;
    let size = 0;
    let file: Readable | null = null;
    let consuming: Promise<void> | null = null;
    let consumed: { value: T } | null = null;

    const stopReading = () => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      if (!ended) abandonBody(req);
    };
    const settle = (outcome: MultipartOutcome<T>) => {
      if (settled) return;
      settled = true;
      stopReading();
      resolve(outcome);
    };
    /** Refuses mid-stream; a consumer still at work is stopped and awaited, so nothing runs on after the answer. */
    const refuse = (outcome: MultipartOutcome<T>) => {
      if (settled) return;
      settled = true;
      stopReading();
      file?.destroy(new Error('upload refused'));
      const wait = consuming ?? Promise.resolve();
      wait.then(
        () => resolve(outcome),
        () => resolve(outcome),
      );
    };

    parser.on('file', (name, stream) => {
      if (name !== field || file) {
        stream.resume();
        return;
      }
      file = stream;
      consuming = consume(stream).then(
        (value) => {
          consumed = { value };
          // The consumer stopped before the file ended: it refused it, so the rest is not wanted.
          if (!stream.readableEnded || parserClosed) settle({ kind: 'file', value });
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          stopReading();
          reject(error);
        },
      );
    });
    parser.on('close', () => {
      parserClosed = true;
      if (!file) settle({ kind: 'missing' });
      else if (consumed) settle({ kind: 'file', value: consumed.value });
    });
    parser.on('error', () => refuse({ kind: 'malformed' }));

    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        refuse({ kind: 'too_large' });
        return;
      }
      if (!parser.write(chunk)) {
        req.pause();
        parser.once('drain', () => {
          if (!settled) req.resume();
        });
      }
    };
    const onEnd = () => {
      ended = true;
      parser.end();
    };
    // The client went away mid-body: nobody will read an answer, but the consumer must stop.
    const onClose = () => {
      if (!ended) refuse({ kind: 'malformed' });
    };
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
