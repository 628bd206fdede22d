import type { Reader, Response } from 'maxmind';

type Metadata = Reader<Response>['metadata'];

/** No record for the address (the tree ends in the "empty" marker, or the address is of the other family). */
export const NO_RECORD = 0;

/**
 * The binary search tree of a MaxMind-format file, walked on an address already held as numbers.
 * mmdb-lib's Reader walks the same tree but first re-parses the address string into a byte array
 * and reads each node through a closure; on the sign-in path that costs more than the walk
 * itself. The walk follows mmdb-lib's findAddressInTree step for step (search-tree.test.ts
 * compares the two on many addresses); the record it ends on is still decoded by mmdb-lib.
 */
export class SearchTree {
  readonly #bytes: Buffer;
  readonly #nodeCount: number;
  readonly #recordSize: 24 | 28 | 32;
  readonly #ipVersion: 4 | 6;
  /** Where IPv4 addresses start in an IPv6 tree (::/96), as mmdb-lib finds it. */
  readonly #ipv4Start: number;

  constructor(bytes: Buffer, metadata: Metadata) {
    const { nodeCount, recordSize, ipVersion, searchTreeSize } = metadata;
    // mmdb-lib reads nodes with bounds-checked Buffer reads (a RangeError on a truncated or
    // hostile file); these reads are unchecked, so the whole tree must lie inside the file.
    if (!Number.isSafeInteger(nodeCount) || nodeCount <= 0) throw new Error('Invalid node count in database');
    if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
      throw new Error('Unsupported record size');
    if (ipVersion !== 4 && ipVersion !== 6) throw new Error('Unsupported IP version in database');
    if (searchTreeSize + DATA_SECTION_SEPARATOR_BYTES > bytes.length) {
      throw new Error('Search tree extends past the end of the database file');
    }
    this.#bytes = bytes;
    this.#nodeCount = nodeCount;
    this.#recordSize = recordSize;
    this.#ipVersion = ipVersion;
    let node = 0;
    if (ipVersion === 6) {
      for (let i = 0; i < 96 && node < nodeCount; i++) node = this.#child(node, 0);
    }
    this.#ipv4Start = node;
  }

  /** The data pointer for a 32-bit IPv4 address, or NO_RECORD. */
  ipv4(address: number): number {
    let node = this.#ipv4Start;
    for (let bit = 31; bit >= 0 && node < this.#nodeCount; bit--) {
      node = this.#child(node, (address >>> bit) & 1);
    }
    return node > this.#nodeCount ? node : NO_RECORD;
  }

  /**
   * The data pointer for an IPv6 address given as eight 16-bit parts, or NO_RECORD. An IPv4-only
   * tree has no answer for one (mmdb-lib would walk its first 32 bits as if they were IPv4).
   */
  ipv6(parts: readonly number[]): number {
    if (this.#ipVersion === 4) return NO_RECORD;
    let node = 0;
    for (let depth = 0; depth < 128 && node < this.#nodeCount; depth++) {
      node = this.#child(node, ((parts[depth >> 4] as number) >>> (15 - (depth & 15))) & 1);
    }
    return node > this.#nodeCount ? node : NO_RECORD;
  }

  /** One of a node's two records (0 left, 1 right), in the file's record size. */
  #child(node: number, right: number): number {
    const b = this.#bytes;
    switch (this.#recordSize) {
      case 24: {
        const o = node * 6 + right * 3;
        return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
      }
      case 28: {
        // Each record has 24 bits of its own; the middle byte holds the left record's top nibble
        // and the right one's bottom nibble.
        const o = node * 7;
        const middle = b[o + 3]!;
        return right
          ? ((middle & 0x0f) << 24) | (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!
          : ((middle & 0xf0) << 20) | (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
      }
      case 32: {
        const o = node * 8 + right * 4;
        return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
      }
    }
  }
}

/** The 16 zero bytes between the search tree and the data section (MaxMind DB format spec). */
const DATA_SECTION_SEPARATOR_BYTES = 16;
