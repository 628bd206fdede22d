import { type Address, type Cidr, parseAddress } from './address.js';

/**
 * An allowlist compiled for lookups: per family, disjoint sorted ranges, each labelled with the most
 * specific entry covering it, searched by bisection (O(log n) per check instead of a scan of every
 * entry). CIDR blocks are either nested or disjoint, so one sweep with a stack of open blocks
 * splits them into at most 2n+1 such ranges.
 */
export interface CompiledAllowlist {
  /** The most specific entry containing the address, or null. */
  match(address: Address): string | null;
  /** `match` on a textual address; an address that does not parse matches nothing. */
  matchText(ip: string): string | null;
  readonly rangeCount: number;
}

interface Segment {
  first: bigint;
  last: bigint;
  label: number;
}

export function compileAllowlist(cidrs: readonly Cidr[]): CompiledAllowlist {
  const labels: string[] = [];
  const labelOf = new Map<string, number>();
  const label = (canonical: string) => {
    let index = labelOf.get(canonical);
    if (index === undefined) {
      index = labels.length;
      labels.push(canonical);
      labelOf.set(canonical, index);
    }
    return index;
  };
  const v4 = segments(
    cidrs.filter((c) => c.family === 4),
    label,
  );
  const v6 = segments(
    cidrs.filter((c) => c.family === 6),
    label,
  );

  const v4First = Uint32Array.from(v4, (s) => Number(s.first));
  const v4Last = Uint32Array.from(v4, (s) => Number(s.last));
  const v4Label = Int32Array.from(v4, (s) => s.label);
  const v6First = new Uint32Array(v6.length * 4);
  const v6Last = new Uint32Array(v6.length * 4);
  const v6Label = Int32Array.from(v6, (s) => s.label);
  v6.forEach((s, i) => {
    writeWords(v6First, i, s.first);
    writeWords(v6Last, i, s.last);
  });

  const match = (address: Address): string | null => {
    if (address.family === 4) {
      const x = address.value;
      let lo = 0;
      let hi = v4First.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if ((v4First[mid] as number) <= x) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found < 0 || x > (v4Last[found] as number)) return null;
      return labels[v4Label[found] as number] as string;
    }
    const w = address.words;
    let lo = 0;
    let hi = v6Label.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(v6First, mid, w) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || compareWords(v6Last, found, w) < 0) return null;
    return labels[v6Label[found] as number] as string;
  };

  return {
    match,
    matchText: (ip) => {
      const address = parseAddress(ip);
      return address ? match(address) : null;
    },
    rangeCount: v4.length + v6.length,
  };
}

/** Splits nested-or-disjoint blocks into disjoint ranges labelled by the innermost block. */
function segments(cidrs: Cidr[], label: (canonical: string) => number): Segment[] {
  // Start ascending, then the wider block first, so a parent is always open before its children.
  const sorted = [...cidrs].sort((a, b) =>
    a.first < b.first ? -1 : a.first > b.first ? 1 : a.prefixLength - b.prefixLength,
  );
  const out: Segment[] = [];
  const emit = (first: bigint, last: bigint, block: Cidr) => {
    if (first > last) return;
    const id = label(block.canonical);
    const previous = out.at(-1);
    if (previous && previous.label === id && previous.last + 1n === first) previous.last = last;
    else out.push({ first, last, label: id });
  };
  const open: Cidr[] = [];
  let cursor = 0n;
  const closeUntil = (limit: bigint | null) => {
    for (let top = open.at(-1); top && (limit === null || top.last < limit); top = open.at(-1)) {
      emit(cursor, top.last, top);
      cursor = top.last + 1n;
      open.pop();
    }
  };
  for (const block of sorted) {
    closeUntil(block.first);
    const parent = open.at(-1);
    if (parent) {
      emit(cursor, block.first - 1n, parent);
      // A duplicate (same range) adds nothing.
      if (parent.first === block.first && parent.last === block.last) continue;
    }
    cursor = block.first;
    open.push(block);
  }
  closeUntil(null);
  return out;
}

function writeWords(target: Uint32Array, index: number, value: bigint): void {
  for (let k = 3; k >= 0; k--) target[index * 4 + k] = Number((value >> BigInt((3 - k) * 32)) & 0xffffffffn);
}

/** Sign of (stored range bound at `index`) − (address words). */
function compareWords(source: Uint32Array, index: number, words: readonly number[]): number {
  const base = index * 4;
  for (let k = 0; k < 4; k++) {
    const a = source[base + k] as number;
    const b = words[k] as number;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}
