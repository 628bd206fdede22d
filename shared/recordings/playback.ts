import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BlobStore } from '../blob/store.js';
import { ASCIICAST_CONTENT_TYPE, PLAYBACK_URL_TTL_SECONDS } from './model.js';

export const LOCAL_BLOB_PATH = '/api/recordings/blob';

/** What a link may be issued for: an archived recording's object. */
export interface ArchivedObject {
  id: string;
  blobKey: string;
}

export const attachmentDisposition = (recordingId: string) => `attachment; filename="${recordingId}.cast"`;

function localSignature(key: Buffer, recordingId: string, expiresUnix: number): Buffer {
  return createHmac('sha256', key).update(`GET\n${LOCAL_BLOB_PATH}/${recordingId}\n${expiresUnix}`).digest();
}

/** The embedded runtime's link: `/api/recordings/blob/<id>?expires=<unix s>&sig=<hex HMAC>`. */
export function localPlaybackPath(key: Buffer, recordingId: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const sig = localSignature(key, recordingId, expires).toString('hex');
  return `${LOCAL_BLOB_PATH}/${recordingId}?expires=${expires}&sig=${sig}`;
}

/** True when `sig` is this key's signature over the id and expiry, and the expiry is still ahead. */
export function verifyLocalPlayback(
  key: Buffer,
  recordingId: string,
  expires: string,
  sig: string,
  now: Date,
): boolean {
  if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return false;
  const expiresUnix = Number(expires);
  const expected = localSignature(key, recordingId, expiresUnix);
  // Constant-time compare, so response timing does not leak how much of a forged signature matched.
  const valid = timingSafeEqual(expected, Buffer.from(sig, 'hex'));
  return valid && now.getTime() < expiresUnix * 1000;
}

/**
 * Issues playback links once the caller has been authorized: a Cloud Storage V4 signed URL in
 * production, an HMAC-signed link to the recordings unit in the embedded runtime.
 */
export class PlaybackLinks {
  constructor(private readonly deps: { blobs: BlobStore; appUrl: string; localKey: () => Promise<Buffer> }) {}

  async issue(object: ArchivedObject, now: Date): Promise<{ url: string; expiresAt: Date }> {
    // Whole seconds, so the expiry we report is exactly the one signed.
    const expiresAt = new Date((Math.floor(now.getTime() / 1000) + PLAYBACK_URL_TTL_SECONDS) * 1000);
    if (this.deps.blobs.signedReadUrl) {
      const url = await this.deps.blobs.signedReadUrl(object.blobKey, {
        expiresAt,
        responseType: ASCIICAST_CONTENT_TYPE,
        responseDisposition: attachmentDisposition(object.id),
      });
      return { url, expiresAt };
    }
    const path = localPlaybackPath(await this.deps.localKey(), object.id, expiresAt);
    return { url: `${this.deps.appUrl}${path}`, expiresAt };
  }
}
