import { type Address, formatNetwork, type Network, parseAddress, wordMask } from './address.js';

/**
 * An allowlist compiled for lookups. Per family, a sorted array of boundary points, each carrying
 * the most specific entry in force from that point up to the next one (or none); a check is one
 * bisection, O(log n), instead of a scan of every entry. CIDR blocks are either nested or
 * disjoint, so one sweep over the sorted blocks with a stack of open ones yields at most 2n points.
 * Keys are 32-bit words (IPv4: one, IPv6: four), so neither compiling nor matching needs BigInt.
 */
export interface CompiledAllowlist {
  /** Index (in the compiled list) of the most specific entry containing the address, or -1. */
  lookup(address: Address): number;
  /** The most specific entry containing the address, as canonical text, or null. */
  match(address: Address): string | null;
  /** `match` on a textual address; an address that does not parse matches nothing. */
  matchText(ip: string): string | null;
  /** Boundary points across both families (≤ 2 × entries). */
  readonly pointCount: number;
}

export function compileAllowlist(networks: readonly Network[]): CompiledAllowlist {
  const v4 = compileFamily(networks, 4);
  const v6 = compileFamily(networks, 6);
  // Texts are built on demand: the request gate only needs a yes or no.
  const texts: Array<string | undefined> = [];
  const text = (index: number) => {
    let value = texts[index];
    if (value === undefined) {
      value = formatNetwork(networks[index] as Network);
      texts[index] = value;
    }
    return value;
  };

  const lookup = (address: Address): number => {
    let lo = 0;
    let found = -1;
    if (address.family === 4) {
      const x = address.value;
      const keys = v4.keys;
      let hi = keys.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if ((keys[mid] as number) <= x) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found < 0 ? -1 : (v4.labels[found] as number);
    }
    const w = address.words;
    const keys = v6.keys;
    let hi = v6.labels.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKey(keys, mid, w) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? -1 : (v6.labels[found] as number);
  };
  const match = (address: Address) => {
    const index = lookup(address);
    return index < 0 ? null : text(index);
  };

  return {
    lookup,
    match,
    matchText: (ip) => {
      const address = parseAddress(ip);
      return address ? match(address) : null;
    },
    pointCount: v4.labels.length + v6.labels.length,
  };
}

/** Boundary points: `keys` holds one word per point (IPv4) or four (IPv6); `labels` the entry index or -1. */
interface Points {
  keys: Uint32Array;
  labels: Int32Array;
}

/**
 * The sweep for one family over typed arrays (no per-entry objects, so 10,000 entries compile in
 * a few milliseconds). Blocks are sorted by start, wider first, so a parent is always open before
 * its children; `end` is last + 1, absent (`endless`) when a block runs to the end of the space.
 */
function compileFamily(networks: readonly Network[], family: 4 | 6): Points {
  const width = family === 4 ? 1 : 4;
  const count = networks.length;
  const firsts = new Uint32Array(count * width);
  const ends = new Uint32Array(count * width);
  const endless = new Uint8Array(count);
  const prefixes = new Uint8Array(count);
  const order: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = networks[i] as Network;
    if (n.family !== family) continue;
    order.push(i);
    prefixes[i] = n.prefixLength;
    let carry = 1;
    for (let k = width - 1; k >= 0; k--) {
      const mask = wordMask(n.prefixLength, k);
      const first = ((n.network[k] as number) & mask) >>> 0;
      firsts[i * width + k] = first;
      const sum = ((first | ~mask) >>> 0) + carry;
      ends[i * width + k] = sum >>> 0;
      carry = sum > 0xffffffff ? 1 : 0;
    }
    endless[i] = carry;
  }
  order.sort(
    (a, b) => compareAt(firsts, a, firsts, b, width) || (prefixes[a] as number) - (prefixes[b] as number),
  );

  const points = new PointList(width);
  const open: number[] = [];
  const closeUntil = (limit: number) => {
    while (open.length > 0) {
      const top = open[open.length - 1] as number;
      if (endless[top] === 1 || (limit >= 0 && compareAt(ends, top, firsts, limit, width) > 0)) return;
      open.pop();
      points.add(ends, top * width, open.length > 0 ? (open[open.length - 1] as number) : -1);
    }
  };
  for (const index of order) {
    closeUntil(index);
    const parent = open[open.length - 1];
    // A duplicate (same range) adds nothing.
    if (
      parent !== undefined &&
      prefixes[parent] === prefixes[index] &&
      compareAt(firsts, parent, firsts, index, width) === 0
    )
      continue;
    points.add(firsts, index * width, index);
    open.push(index);
  }
  closeUntil(-1);
  for (let top = open.pop(); top !== undefined; top = open.pop()) {
    if (endless[top] === 0)
      points.add(ends, top * width, open.length > 0 ? (open[open.length - 1] as number) : -1);
  }
  return points.pack();
}

/**
 * Points arrive in non-decreasing key order. At one key the last one wins (a block ending where
 * its sibling starts); a point naming the same entry as the one before it changes nothing.
 */
class PointList {
  readonly #keys: number[] = [];
  readonly #labels: number[] = [];

  constructor(private readonly width: number) {}

  add(source: Uint32Array, offset: number, label: number): void {
    const last = this.#labels.length - 1;
    if (last >= 0 && this.#sameKey(last, source, offset)) {
      this.#labels.pop();
      this.#keys.length -= this.width;
    }
    if (label === (this.#labels.length > 0 ? this.#labels[this.#labels.length - 1] : -1)) return;
    for (let k = 0; k < this.width; k++) this.#keys.push(source[offset + k] as number);
    this.#labels.push(label);
  }

  pack(): Points {
    return { keys: Uint32Array.from(this.#keys), labels: Int32Array.from(this.#labels) };
  }

  #sameKey(index: number, source: Uint32Array, offset: number): boolean {
    for (let k = 0; k < this.width; k++) {
      if (this.#keys[index * this.width + k] !== source[offset + k]) return false;
    }
    return true;
  }
}

/** Sign of key `i` of `a` − key `j` of `b`, keys being `width` words. */
function compareAt(a: Uint32Array, i: number, b: Uint32Array, j: number, width: number): number {
  for (let k = 0; k < width; k++) {
    const x = a[i * width + k] as number;
    const y = b[j * width + k] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Sign of (stored IPv6 key `index`) − (address words). */
function compareKey(keys: Uint32Array, index: number, words: readonly number[]): number {
  const base = index * 4;
  for (let k = 0; k < 4; k++) {
    const x = keys[base + k] as number;
    const y = words[k] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
