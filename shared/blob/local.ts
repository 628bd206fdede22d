import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, assertValidPrefix, type BlobStore, type PutOptions } from './store.js';

/** Embedded mode: each bucket is a folder `DATA_DIR/blobs/<bucket>/`, each key a file path under it. */
export class LocalBlobStore implements BlobStore {
  readonly #root: string;

  constructor(
    dataDir: string,
    readonly bucket: string,
  ) {
    assertValidKey(bucket);
    this.#root = join(dataDir, 'blobs', bucket);
  }

  async put(key: string, data: Buffer | string, options: PutOptions = {}): Promise<{ created: boolean }> {
    assertValidKey(key);
    const file = join(this.#root, key);
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, data, { flag: options.ifAbsent ? 'wx' : 'w' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { created: false };
      throw error;
    }
    return { created: true };
  }

  async get(key: string): Promise<Buffer | null> {
    assertValidKey(key);
    try {
      return await readFile(join(this.#root, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Writes a temp file beside the target and renames it over: readers see the old or the whole new object. */
  async upload(key: string, body: Readable): Promise<void> {
    assertValidKey(key);
    const file = join(this.#root, key);
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.partial`;
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    assertValidKey(key);
    try {
      return (await stat(join(this.#root, key))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async read(key: string): Promise<Readable | null> {
    assertValidKey(key);
    const file = join(this.#root, key);
    try {
      if (!(await stat(file)).isFile()) return null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return createReadStream(file);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await rm(join(this.#root, key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    // Walk only the deepest folder the prefix names, then filter by the rest of it.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else keys.push(relative(this.#root, path).split(sep).join('/'));
      }
    };
    await walk(join(this.#root, folder));
    return keys.filter((key) => key.startsWith(prefix) && !key.endsWith('.partial')).sort();
  }
}
