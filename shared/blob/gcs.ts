import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '@google-cloud/storage';
import { DependencyUnavailableError } from '../errors/unavailable.js';
import {
  assertValidKey,
  assertValidPrefix,
  type BlobStore,
  type PutOptions,
  type SignedReadOptions,
  type UploadOptions,
} from './store.js';

/** Production: one Cloud Storage bucket through @google-cloud/storage's JSON API client. */
export class GcsBlobStore implements BlobStore {
  readonly bucket: string;

  constructor(private readonly gcsBucket: Bucket) {
    this.bucket = gcsBucket.name;
  }

  async put(key: string, data: Buffer | string, options: PutOptions = {}): Promise<{ created: boolean }> {
    assertValidKey(key);
    try {
      await this.gcsBucket.file(key).save(typeof data === 'string' ? Buffer.from(data) : data, {
        resumable: false,
        contentType: options.contentType ?? 'application/octet-stream',
        // Generation 0 means "only if no live object has this name".
        ...(options.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
      });
    } catch (error) {
      if (options.ifAbsent && statusOf(error) === 412) return { created: false };
      throw error;
    }
    return { created: true };
  }

  async get(key: string): Promise<Buffer | null> {
    assertValidKey(key);
    try {
      const [bytes] = await this.gcsBucket.file(key).download();
      return bytes;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  /** A resumable upload: the object appears only when the final chunk is committed. */
  async upload(key: string, body: Readable, options: UploadOptions): Promise<void> {
    assertValidKey(key);
    const target = this.gcsBucket.file(key).createWriteStream({
      resumable: true,
      contentType: options.contentType,
      metadata: {
        contentType: options.contentType,
        ...(options.contentEncoding ? { contentEncoding: options.contentEncoding } : {}),
      },
    });
    await pipeline(body, target);
  }

  async exists(key: string): Promise<boolean> {
    assertValidKey(key);
    try {
      const [exists] = await this.gcsBucket.file(key).exists();
      return exists;
    } catch (error) {
      throw outageOr(error);
    }
  }

  async read(key: string): Promise<Readable | null> {
    assertValidKey(key);
    const file = this.gcsBucket.file(key);
    // decompress: false hands out the stored (gzip) bytes, as the local store does.
    return (await this.exists(key)) ? file.createReadStream({ decompress: false }) : null;
  }

  /** A V4 signed URL, signed by the function's service account (or the key in `credentials`). */
  async signedReadUrl(key: string, options: SignedReadOptions): Promise<string> {
    assertValidKey(key);
    const [url] = await this.gcsBucket.file(key).getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: options.expiresAt,
      responseType: options.responseType,
      responseDisposition: options.responseDisposition,
    });
    return url;
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.gcsBucket.file(key).delete({ ignoreNotFound: true });
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    const [files] = await this.gcsBucket.getFiles({ prefix, autoPaginate: true });
    return files.map((file) => file.name).sort();
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Storage unreachable (no HTTP answer at all) or failing on its side (5xx, 429) is an outage the
 * client may retry (503); a 4xx is about the request and stays as it is.
 */
function outageOr(error: unknown): unknown {
  const status = statusOf(error);
  if (status === undefined || status >= 500 || status === 429) {
    return new DependencyUnavailableError('object storage', { cause: error });
  }
  return error;
}
