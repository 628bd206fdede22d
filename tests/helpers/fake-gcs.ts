import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';

interface StoredObject {
  name: string;
  bytes: Buffer;
  contentType: string;
  generation: number;
}

export interface FakeGcs {
  url: string;
  objects: Map<string, StoredObject>;
  requests: string[];
  close(): Promise<void>;
}

/**
 * The slice of the Cloud Storage JSON API that @google-cloud/storage uses for small objects:
 * multipart upload (with the ifGenerationMatch=0 precondition), media download and paged listing.
 * Listing pages hold `pageSize` items so the client's auto-pagination is exercised.
 */
export async function startFakeGcs(bucket: string, pageSize = 2): Promise<FakeGcs> {
  const objects = new Map<string, StoredObject>();
  const requests: string[] = [];
  let generation = 1;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const notFound = () => send(404, { error: { code: 404, message: 'No such object' } });
    const objectsPath = `/storage/v1/b/${bucket}/o`;

    if (req.method === 'POST' && url.pathname === `/upload${objectsPath}`) {
      const { metadata, media } = parseMultipart(req.headers['content-type'] ?? '', await readAll(req));
      const name = String(metadata.name ?? url.searchParams.get('name'));
      if (url.searchParams.get('ifGenerationMatch') === '0' && objects.has(name)) {
        send(412, {
          error: { code: 412, message: 'At least one of the pre-conditions you specified did not hold.' },
        });
        return;
      }
      const object = {
        name,
        bytes: media,
        contentType: String(metadata.contentType ?? 'application/octet-stream'),
        generation: generation++,
      };
      objects.set(name, object);
      send(200, resource(bucket, object));
      return;
    }
    if (req.method === 'GET' && url.pathname === objectsPath) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const names = [...objects.keys()].filter((n) => n.startsWith(prefix)).sort();
      const start = Number(url.searchParams.get('pageToken') ?? '0');
      const page = names.slice(start, start + pageSize);
      const next = start + pageSize < names.length ? String(start + pageSize) : undefined;
      send(200, {
        kind: 'storage#objects',
        items: page.map((n) => resource(bucket, objects.get(n) as StoredObject)),
        ...(next ? { nextPageToken: next } : {}),
      });
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith(`${objectsPath}/`)) {
      const object = objects.get(decodeURIComponent(url.pathname.slice(objectsPath.length + 1)));
      if (!object) return notFound();
      if (url.searchParams.get('alt') === 'media') {
        const { crc32c, md5Hash } = resource(bucket, object);
        res.writeHead(200, {
          'content-type': object.contentType,
          'content-length': object.bytes.length,
          'x-goog-hash': `crc32c=${crc32c},md5=${md5Hash}`,
        });
        res.end(object.bytes);
        return;
      }
      send(200, resource(bucket, object));
      return;
    }
    send(400, { error: { code: 400, message: `fake GCS does not speak ${req.method} ${url.pathname}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function resource(bucket: string, object: StoredObject) {
  // The client checks its upload against these, as it does against the real service.
  const crc32c = new CRC32C();
  crc32c.update(object.bytes);
  return {
    crc32c: crc32c.toString(),
    md5Hash: createHash('md5').update(object.bytes).digest('base64'),
    kind: 'storage#object',
    bucket,
    name: object.name,
    id: `${bucket}/${object.name}/${object.generation}`,
    generation: String(object.generation),
    contentType: object.contentType,
    size: String(object.bytes.length),
  };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** multipart/related: a JSON metadata part, then the media part. */
function parseMultipart(
  contentType: string,
  body: Buffer,
): { metadata: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`not multipart: ${contentType}`);
  const parts: Buffer[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    parts.push(body.subarray(start, next));
    at = next;
  }
  const content = (part: Buffer) => {
    const headerEnd = part.indexOf('\r\n\r\n');
    return part.subarray(headerEnd + 4, part.length - 2);
  };
  const [meta, media] = parts;
  if (!meta || !media) throw new Error('multipart body needs two parts');
  return { metadata: JSON.parse(content(meta).toString('utf8')), media: content(media) };
}
