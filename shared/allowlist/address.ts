import ipaddr from 'ipaddr.js';

/**
 * One client address as the matcher compares it: IPv4 as an unsigned 32-bit number, IPv6 as four
 * unsigned 32-bit words, most significant first. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is IPv4.
 */
export type Address = { family: 4; value: number } | { family: 6; words: [number, number, number, number] };

/** A parsed allowlist entry: the inclusive range it covers, in its family, and its canonical text. */
export interface Cidr {
  family: 4 | 6;
  prefixLength: number;
  first: bigint;
  last: bigint;
  /** Network address and prefix length: `10.0.0.0/8`, `2001:db8::/32`. */
  canonical: string;
}

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;
const V4_BITS = 32;
const V6_BITS = 128;
const MAPPED_PREFIX_BITS = 96;

/**
 * Parses one address strictly: dotted-quad IPv4 with no leading zeros (is `010.1.1.1` octal 8.1.1.1
 * or decimal 10.1.1.1? we refuse to guess), no short or hex forms, IPv6 without a zone id. Returns
 * null for anything else.
 */
export function parseAddress(text: string): Address | null {
  const ip = parseIp(text);
  if (!ip) return null;
  if (ip.kind() === 'ipv4') return { family: 4, value: v4Number(ip.toByteArray()) };
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return { family: 4, value: v4Number(v6.toIPv4Address().toByteArray()) };
  const p = v6.parts;
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
  let family: 4 | 6 = ip.kind() === 'ipv4' ? 4 : 6;
  const bits = family === 4 ? V4_BITS : V6_BITS;
  let prefixLength = bits;
  if (prefixText !== null) {
    if (!PREFIX.test(prefixText) || Number(prefixText) > bits) {
      return { ok: false, message: `the prefix length must be a number from 0 to ${bits}` };
    }
    prefixLength = Number(prefixText);
  }
  let value = bytesToBigInt(ip.toByteArray());
  if (family === 6 && (ip as ipaddr.IPv6).isIPv4MappedAddress() && prefixLength >= MAPPED_PREFIX_BITS) {
    family = 4;
    prefixLength -= MAPPED_PREFIX_BITS;
    value &= 0xffffffffn;
  }
  const width = family === 4 ? V4_BITS : V6_BITS;
  const hostMask = (1n << BigInt(width - prefixLength)) - 1n;
  const first = value & ~hostMask;
  return {
    ok: true,
    hostBitsCleared: (value & hostMask) !== 0n,
    cidr: {
      family,
      prefixLength,
      first,
      last: first | hostMask,
      canonical: `${format(family, first)}/${prefixLength}`,
    },
  };
}

/** The address as the same number space as `Cidr.first`/`last` (for references and tests). */
export function addressToBigInt(address: Address): bigint {
  if (address.family === 4) return BigInt(address.value);
  return address.words.reduce((acc, word) => (acc << 32n) | BigInt(word), 0n);
}

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return null;
  if (text.includes(':')) {
    if (!ipaddr.IPv6.isValid(text)) return null;
    if (!text.includes('.')) return ipaddr.IPv6.parse(text);
    // A dotted tail follows the IPv4 rules, and is rewritten as two hex groups before parsing:
    // ipaddr.js reads `::a.b.c.d` (IPv4-compatible) as `::ffff:a.b.c.d` (mapped), another address.
    const colon = text.lastIndexOf(':');
    const dotted = text.slice(colon + 1);
    if (!ipaddr.IPv4.isValidFourPartDecimal(dotted)) return null;
    const [a, b, c, d] = ipaddr.IPv4.parse(dotted).octets as [number, number, number, number];
    const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    const rewritten = `${text.slice(0, colon + 1)}${hex}`;
    return ipaddr.IPv6.isValid(rewritten) ? ipaddr.IPv6.parse(rewritten) : null;
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text);
}

function v4Number(bytes: number[]): number {
  return (
    (((bytes[0] as number) << 24) |
      ((bytes[1] as number) << 16) |
      ((bytes[2] as number) << 8) |
      (bytes[3] as number)) >>>
    0
  );
}

function bytesToBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function format(family: 4 | 6, value: bigint): string {
  const length = family === 4 ? 4 : 16;
  const bytes: number[] = new Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  const ip = ipaddr.fromByteArray(bytes);
  return family === 4 ? ip.toString() : (ip as ipaddr.IPv6).toRFC5952String();
}
