import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CRC32C, Storage } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { PlaybackLinks } from '../recordings/playback.js';
import { GcsBlobStore } from './gcs.js';

/** Real @google-cloud/storage signing with a locally generated service-account key; nothing leaves the machine. */
function signingStore() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = 'fn-recordings@test-project.iam.gserviceaccount.com';
  const storage = new Storage({
    projectId: 'test-project',
    credentials: {
      client_email: clientEmail,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  });
  return { store: new GcsBlobStore(storage.bucket('sf-recordings')), publicKey, clientEmail };
}

describe('Cloud Storage playback links', () => {
  it('are V4 URLs signed by the service account, valid 15 minutes, forcing the asciicast type and an attachment', async () => {
    const { store, publicKey, clientEmail } = signingStore();
    const key = 'orgs/o1/recordings/r1.cast.gz';
    const links = new PlaybackLinks({
      blobs: store,
      appUrl: 'http://unused',
      localKey: async () => Buffer.alloc(32),
    });
    const now = new Date();
    const { url, expiresAt } = await links.issue({ id: 'r1', blobKey: key }, now);
    const parsed = new URL(url);
    const q = parsed.searchParams;

    expect(parsed.origin).toBe('https://storage.googleapis.com');
    expect(parsed.pathname).toBe(`/sf-recordings/${key}`);
    expect(q.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    const goog = q.get('X-Goog-Date') ?? '';
    expect(goog).toMatch(/^\d{8}T\d{6}Z$/);
    expect(q.get('X-Goog-Credential')).toBe(`${clientEmail}/${goog.slice(0, 8)}/auto/storage/goog4_request`);
    expect(q.get('X-Goog-SignedHeaders')).toBe('host');
    expect(q.get('response-content-type')).toBe('application/x-asciicast');
    expect(q.get('response-content-disposition')).toBe('attachment; filename="r1.cast"');

    // The link lives exactly until the expiry we report: 15 minutes from issue.
    const signedAt = Date.UTC(
      Number(goog.slice(0, 4)),
      Number(goog.slice(4, 6)) - 1,
      Number(goog.slice(6, 8)),
      Number(goog.slice(9, 11)),
      Number(goog.slice(11, 13)),
      Number(goog.slice(13, 15)),
    );
    expect(signedAt + Number(q.get('X-Goog-Expires')) * 1000).toBe(expiresAt.getTime());
    expect(Math.abs(expiresAt.getTime() - (now.getTime() + 15 * 60 * 1000))).toBeLessThan(1000);

    // The signature verifies under the key's public half over the V4 canonical request.
    const query = parsed.search
      .slice(1)
      .split('&')
      .filter((pair) => !pair.startsWith('X-Goog-Signature='))
      .sort()
      .join('&');
    const canonical = [
      'GET',
      parsed.pathname,
      query,
      'host:storage.googleapis.com',
      '',
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const stringToSign = (request: string) =>
      Buffer.from(
        [
          'GOOG4-RSA-SHA256',
          goog,
          `${goog.slice(0, 8)}/auto/storage/goog4_request`,
          createHash('sha256').update(request).digest('hex'),
        ].join('\n'),
      );
    const signature = Buffer.from(q.get('X-Goog-Signature') ?? '', 'hex');
    expect(verify('sha256', stringToSign(canonical), publicKey, signature)).toBe(true);
    expect(verify('sha256', stringToSign(canonical.replace('o1', 'o2')), publicKey, signature)).toBe(false);
  });
});

/**
 * A stand-in for the Cloud Storage resumable upload endpoint (session POST, then PUTs with
 * Content-Range), answering as GCS does, with the hashes the client library validates.
 */
async function resumableStub() {
  const state = {
    sessionQuery: '',
    uploadType: '',
    metadata: {} as Record<string, unknown>,
    bytes: Buffer.alloc(0),
    puts: 0,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST') {
        state.sessionQuery = req.url ?? '';
        state.metadata = JSON.parse(body.toString() || '{}');
        // The library sends the object's type as X-Upload-Content-Type, as the JSON API documents.
        state.uploadType = String(req.headers['x-upload-content-type'] ?? state.metadata.contentType ?? '');
        res.writeHead(200, {
          location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/session/1`,
        });
        res.end();
        return;
      }
      state.puts++;
      state.bytes = Buffer.concat([state.bytes, body]);
      if (/^bytes \d+-\d+\/\*$/.test(String(req.headers['content-range']))) {
        res.writeHead(308, { range: `bytes=0-${state.bytes.length - 1}` });
        res.end();
        return;
      }
      const crc = new CRC32C();
      crc.update(state.bytes);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...state.metadata,
          name: 'object',
          size: String(state.bytes.length),
          md5Hash: createHash('md5').update(state.bytes).digest('base64'),
          crc32c: crc.toString(),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
}

describe('Cloud Storage streaming upload', () => {
  it('streams the body through a resumable upload with the object type and gzip encoding', async () => {
    const stub = await resumableStub();
    try {
      const storage = new Storage({ projectId: 'test-project', apiEndpoint: stub.endpoint });
      const store = new GcsBlobStore(storage.bucket('sf-recordings'));
      const parts = [randomBytes(2 * 1024 * 1024), randomBytes(1024 * 1024 + 7)];
      await store.upload('orgs/o1/recordings/r1.cast.gz', Readable.from(parts), {
        contentType: 'application/x-asciicast',
        contentEncoding: 'gzip',
      });
      expect(stub.state.sessionQuery).toContain('uploadType=resumable');
      expect(stub.state.sessionQuery).toContain(
        `name=${encodeURIComponent('orgs/o1/recordings/r1.cast.gz')}`,
      );
      expect(stub.state.metadata).toMatchObject({ contentEncoding: 'gzip' });
      expect(stub.state.uploadType).toBe('application/x-asciicast');
      expect(stub.state.bytes.equals(Buffer.concat(parts))).toBe(true);
    } finally {
      stub.close();
    }
  });
});
