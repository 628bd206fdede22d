import type { Readable } from 'node:stream';

/**
 * Object storage for one bucket, named by intent. Checkpoints need small whole-object writes,
 * reads and prefix listings; recordings stream uploads and downloads and hand out signed URLs.
 */
export interface BlobStore {
  readonly bucket: string;
  /**
   * Writes an object. With `ifAbsent`, an existing object is left untouched and `created` is false
   * (buckets under a retention policy refuse overwrites anyway).
   */
  put(key: string, data: Buffer | string, options?: PutOptions): Promise<{ created: boolean }>;
  /** The object's bytes, or null when there is no such object. */
  get(key: string): Promise<Buffer | null>;
  /** Every key that starts with `prefix`, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
  /**
   * Streams `body` into the object, replacing any earlier one only once the whole body has arrived
   * (a failed upload leaves no partial object). Memory stays flat in the object's size.
   */
  upload(key: string, body: Readable, options: UploadOptions): Promise<void>;
  /** Whether the object is there (asked before handing out a link to it). */
  exists(key: string): Promise<boolean>;
  /** The object's bytes as stored (no decoding), or null when there is no such object. */
  read(key: string): Promise<Readable | null>;
  /** Deletes the object; deleting one that is not there is not an error (a purge may run twice). */
  delete(key: string): Promise<void>;
  /** A URL anyone may GET until `expiresAt` (Cloud Storage only; the local store has no server). */
  signedReadUrl?(key: string, options: SignedReadOptions): Promise<string>;
}

export interface UploadOptions {
  contentType: string;
  /** Stored as the object's Content-Encoding (e.g. `gzip` for an already compressed body). */
  contentEncoding?: string;
}

export interface SignedReadOptions {
  expiresAt: Date;
  responseType: string;
  responseDisposition: string;
}

export interface PutOptions {
  contentType?: string;
  ifAbsent?: boolean;
}

/** Keys are relative slash-separated paths of safe segments: no `..`, no empty segments. */
const SEGMENT = /^[A-Za-z0-9._:=-]+$/;

export function assertValidKey(key: string): void {
  const segments = key.split('/');
  if (key.length > 1024 || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  }
}

/** A prefix is a key, or a key with a trailing slash, or empty. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}
