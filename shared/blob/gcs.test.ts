import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { PlaybackLinks } from '../recordings/playback.js';
import { GcsBlobStore } from './gcs.js';

/** Real @google-cloud/storage signing with a locally generated service-account key; nothing leaves the machine. */
function signingStore() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = 'fn-recordings@test-project.iam.gserviceaccount.com';
  const storage = new Storage({
    projectId: 'test-project',
    credentials: { client_email: clientEmail, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
  });
  return { store: new GcsBlobStore(storage.bucket('sf-recordings')), publicKey, clientEmail };
}

describe('Cloud Storage playback links', () => {
  it('are V4 URLs signed by the service account, valid 15 minutes, forcing the asciicast type and an attachment', async () => {
    const { store, publicKey, clientEmail } = signingStore();
    const key = 'orgs/o1/recordings/r1.cast.gz';
    const links = new PlaybackLinks({ blobs: store, appUrl: 'http://unused', localKey: async () => Buffer.alloc(32) });
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
    const canonical = ['GET', parsed.pathname, query, 'host:storage.googleapis.com', '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
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
