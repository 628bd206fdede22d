import { request } from 'node:http';

/**
 * Sends a request with its path exactly as written. `fetch` resolves `..` segments before sending,
 * so path-traversal attempts need a client that does not.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON; keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export interface EarlyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
  /** Body bytes written when the answer's headers arrived. */
  sentBeforeAnswer: number;
  /** Whether the server closed the connection after answering (within a second). */
  closed: boolean;
}

export interface StreamingRequest {
  /** Writes a piece of the body (waits for the socket to take it); a no-op once answered. */
  write(chunk: Buffer): Promise<void>;
  end(): void;
  /** The answer, whenever it comes, before or after the body is complete. */
  answer: Promise<EarlyAnswer>;
  answered(): boolean;
  /** Answered, or the connection is gone: writing more is pointless. */
  over(): boolean;
  sent(): number;
}

/**
 * A request whose body the test writes piece by piece while watching for the answer, the way a
 * client reads a refusal while it is still uploading. Its own connection (no keep-alive pool),
 * so whether the server closed it is observable.
 */
export function streamingRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): StreamingRequest {
  const url = new URL(baseUrl);
  let sent = 0;
  let answeredAt: number | null = null;
  const req = request({ host: url.hostname, port: url.port, method, path, headers, agent: false });
  // Writing into a connection the server closed after answering fails; the answer is what counts.
  req.on('error', () => {});
  const answer = new Promise<EarlyAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      answeredAt = sent;
      const socket = res.socket;
      const closed = new Promise<boolean>((done) => {
        if (socket.destroyed) done(true);
        socket.once('close', () => done(true));
        setTimeout(() => done(false), 1000).unref();
      });
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', async () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON; keep the text
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text,
          sentBeforeAnswer: answeredAt ?? sent,
          closed: await closed,
        });
      });
    });
    req.on('close', () => {
      if (answeredAt === null) setTimeout(() => reject(new Error('closed without an answer')), 100);
    });
  });
  return {
    answer,
    answered: () => answeredAt !== null,
    over: () => answeredAt !== null || req.destroyed,
    sent: () => sent,
    async write(chunk) {
      if (answeredAt !== null || req.destroyed) return;
      sent += chunk.length;
      req.write(chunk);
      // Let the event loop run (the server under test lives in this process) and the answer land.
      await new Promise((resolve) => setImmediate(resolve));
      if (req.writableNeedDrain && answeredAt === null && !req.destroyed) {
        await new Promise<void>((resolve) => {
          req.once('drain', resolve);
          req.once('close', resolve);
          answer.then(
            () => resolve(),
            () => resolve(),
          );
        });
      }
    },
    end() {
      if (!req.destroyed) req.end();
    },
  };
}

/**
 * Offers `totalBytes` of body (declared by Content-Length unless `chunked`) and stops writing as
 * soon as the answer arrives, sampling this process's RSS meanwhile (the server runs in it).
 */
export async function offerBody(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  totalBytes: number,
  options: { prefix?: Buffer; chunked?: boolean } = {},
): Promise<EarlyAnswer & { rssGrowthMiB: number }> {
  const upload = streamingRequest(baseUrl, 'POST', path, {
    ...headers,
    ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(totalBytes) }),
  });
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const piece = Buffer.alloc(256 * 1024, 0x61);
  try {
    if (options.prefix) await upload.write(options.prefix);
    while (upload.sent() < totalBytes && !upload.over()) {
      await upload.write(piece.subarray(0, Math.min(piece.length, totalBytes - upload.sent())));
    }
    if (!upload.over()) upload.end();
    const answer = await upload.answer;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { ...answer, rssGrowthMiB: (peak - before) / (1024 * 1024) };
  } finally {
    clearInterval(sampler);
  }
}
