import ipaddr from 'ipaddr.js';

/**
 * One client address as the matcher compares it: IPv4 as an unsigned 32-bit number, IPv6 as four
 * unsigned 32-bit words, most significant first. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is IPv4.
 */
export type Address = { family: 4; value: number } | { family: 6; words: [number, number, number, number] };

/**
 * An allowlist entry as numbers: family, prefix length and network address as 32-bit words (one
 * for IPv4, four for IPv6). Parsed once, with ipaddr.js, when the list is saved; these numbers are
 * stored beside the text (shared/allowlist/networks.ts), so a cache fill never parses text.
 */
export interface Network {
  family: 4 | 6;
  prefixLength: number;
  network: number[];
}

/** A parsed entry with its canonical text: network address and prefix (`10.0.0.0/8`, `2001:db8::/32`). */
export interface Cidr extends Network {
  cidr: string;
}

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;
const DOTTED_QUAD = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/;
const MAPPED_PREFIX_BITS = 96;

/**
 * Parses one address strictly: dotted-quad IPv4 with no leading zeros (is `010.1.1.1` octal 8.1.1.1
 * or decimal 10.1.1.1? we refuse to guess), no short or hex forms, IPv6 without a zone id. Returns
 * null for anything else.
 */
export function parseAddress(text: string): Address | null {
  const ip = parseIp(text);
  if (!ip) return null;
  if (ip.kind() === 'ipv4') return { family: 4, value: v4Number((ip as ipaddr.IPv4).octets) };
  const p = (ip as ipaddr.IPv6).parts as number[];
  if (isMapped(p)) return { family: 4, value: (((p[6] as number) << 16) | (p[7] as number)) >>> 0 };
  return {
    family: 6,
    words: [
      (((p[0] as number) << 16) | (p[1] as number)) >>> 0,
      (((p[2] as number) << 16) | (p[3] as number)) >>> 0,
      (((p[4] as number) << 16) | (p[5] as number)) >>> 0,
      (((p[6] as number) << 16) | (p[7] as number)) >>> 0,
    ],
  };
}

export type EntryParse = { ok: true; cidr: Cidr; hostBitsCleared: boolean } | { ok: false; message: string };

/**
 * Parses one allowlist entry: an address (a /32 or /128) or `address/prefix`. Host bits set below
 * the prefix are cleared (and reported to the caller); IPv4-mapped IPv6 ranges of /96 or longer
 * become the IPv4 range they map, so they match the IPv4 clients they were written for.
 */
export function parseEntry(text: string): EntryParse {
  if (text.includes('%')) return { ok: false, message: 'zone ids (%…) are not allowed in an allowlist' };
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const ip = parseIp(addressText);
  if (!ip) return { ok: false, message: 'must be an IPv4 or IPv6 address or CIDR (no leading zeros)' };
  let words = wordsOf(ip);
  let family: 4 | 6 = words.length === 1 ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  let prefixLength = bits;
  if (prefixText !== null) {
    if (!PREFIX.test(prefixText) || Number(prefixText) > bits) {
      return { ok: false, message: `the prefix length must be a number from 0 to ${bits}` };
    }
    prefixLength = Number(prefixText);
  }
  if (family === 6 && isMapped((ip as ipaddr.IPv6).parts) && prefixLength >= MAPPED_PREFIX_BITS) {
    family = 4;
    prefixLength -= MAPPED_PREFIX_BITS;
    words = [words[3] as number];
  }
  const network = words.map((word, k) => (word & wordMask(prefixLength, k)) >>> 0);
  const hostBitsCleared = network.some((word, k) => word !== words[k]);
  return {
    ok: true,
    hostBitsCleared,
    cidr: { family, prefixLength, network, cidr: formatNetwork({ family, prefixLength, network }) },
  };
}

/** The bits of 32-bit word `k` that a prefix of `prefixLength` covers. */
export function wordMask(prefixLength: number, k: number): number {
  const covered = Math.min(32, Math.max(0, prefixLength - 32 * k));
  return covered === 0 ? 0 : (0xffffffff << (32 - covered)) >>> 0;
}

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return null;
  if (!text.includes(':')) return DOTTED_QUAD.test(text) ? tryParse(() => ipaddr.IPv4.parse(text)) : null;
  if (!text.includes('.')) return tryParse(() => ipaddr.IPv6.parse(text));
  // A dotted tail follows the IPv4 rules, and is rewritten as two hex groups before parsing:
  // ipaddr.js reads `::a.b.c.d` (IPv4-compatible) as `::ffff:a.b.c.d` (mapped), another address.
  const colon = text.lastIndexOf(':');
  const dotted = text.slice(colon + 1);
  if (!DOTTED_QUAD.test(dotted)) return null;
  const v4 = tryParse(() => ipaddr.IPv4.parse(dotted));
  if (!v4) return null;
  const [a, b, c, d] = v4.octets as [number, number, number, number];
  const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return tryParse(() => ipaddr.IPv6.parse(`${text.slice(0, colon + 1)}${hex}`));
}

/** ipaddr.js throws on what it cannot read (zone ids never reach it: refused above). */
function tryParse<T extends ipaddr.IPv4 | ipaddr.IPv6>(parse: () => T): T | null {
  try {
    const ip = parse();
    return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).zoneId ? null : ip;
  } catch {
    return null;
  }
}

function isMapped(parts: readonly number[]): boolean {
  return (
    parts[0] === 0 &&
    parts[1] === 0 &&
    parts[2] === 0 &&
    parts[3] === 0 &&
    parts[4] === 0 &&
    parts[5] === 0xffff
  );
}

function v4Number(octets: readonly number[]): number {
  return (
    (((octets[0] as number) << 24) |
      ((octets[1] as number) << 16) |
      ((octets[2] as number) << 8) |
      (octets[3] as number)) >>>
    0
  );
}

function wordsOf(ip: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  if (ip.kind() === 'ipv4') return [v4Number((ip as ipaddr.IPv4).octets)];
  const p = (ip as ipaddr.IPv6).parts;
  return [0, 2, 4, 6].map((i) => (((p[i] as number) << 16) | (p[i + 1] as number)) >>> 0);
}

/** The canonical text of an entry: `10.0.0.0/8`, `2001:db8::/32` (RFC 5952). */
export function formatNetwork({ network, prefixLength }: Network): string {
  return `${formatWords(network)}/${prefixLength}`;
}

/**
 * The canonical text of one address, or null when the text is not one (strict, as parseAddress):
 * dotted quad for IPv4 and IPv4-mapped IPv6, RFC 5952 for the rest.
 */
export function canonicalAddress(text: string): string | null {
  const address = parseAddress(text);
  if (!address) return null;
  return formatWords(address.family === 4 ? [address.value] : address.words);
}

function formatWords(words: readonly number[]): string {
  const bytes = words.flatMap((w) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]);
  const ip = ipaddr.fromByteArray(bytes);
  return ip.kind() === 'ipv4' ? ip.toString() : (ip as ipaddr.IPv6).toRFC5952String();
}
