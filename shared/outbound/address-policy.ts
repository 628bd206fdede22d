import ipaddr from 'ipaddr.js';

/**
 * Cloud metadata servers (GCE and AWS IMDS over IPv4 and IPv6): credentials live there, so they are
 * refused even where private addresses are allowed.
 */
const METADATA = ['169.254.169.254', 'fd00:ec2::254'];

/** Ranges no outbound fetch may reach in any mode: nothing answers there that we should talk to. */
const NEVER = new Set(['unspecified', 'multicast', 'broadcast']);

/**
 * The only IPv6 space allocated for global unicast. ipaddr.js calls everything it has no name for
 * `unicast`, including IPv4-compatible `::a.b.c.d` (`::7f00:1`, `::a9fe:a9fe`), which some stacks
 * still tunnel to the IPv4 address it carries.
 */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

export type AddressVerdict = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string };

/**
 * Decides whether an outbound fetch may connect to `address` (an IP literal). Only global unicast
 * passes in production: loopback, private (10/8, 172.16/12, 192.168/16), link-local (169.254/16,
 * fe80::/10), ULA (fc00::/7), CGNAT (100.64/10), reserved and translation ranges (NAT64, 6to4,
 * Teredo, which embed an IPv4 address) are refused, and so is IPv6 outside 2000::/3 (IPv4-compatible
 * `::a.b.c.d` among it). IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged
 * as the IPv4 address it carries. `allowPrivate` (embedded mode) lets loopback and private ranges
 * through, never metadata, unspecified, multicast or broadcast.
 */
export function checkAddress(address: string, allowPrivate: boolean): AddressVerdict {
  const literal = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(literal)) return { ok: false, reason: `not an IP address: ${literal}` };
  // process() turns IPv4-mapped IPv6 into the IPv4 address it carries.
  const parsed = ipaddr.process(literal);
  const normalized = parsed.toString();
  const range = parsed.range();
  const family = parsed.kind() === 'ipv4' ? 4 : 6;
  if (METADATA.some((m) => ipaddr.process(m).toString() === normalized) || embedsMetadata(parsed)) {
    return { ok: false, reason: `metadata address ${normalized}` };
  }
  if (NEVER.has(range)) return { ok: false, reason: `${range} address ${normalized}` };
  const global =
    range === 'unicast' && (parsed.kind() === 'ipv4' || (parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6));
  if (global || allowPrivate) return { ok: true, address: normalized, family };
  if (range === 'unicast') return { ok: false, reason: `non-global IPv6 address ${normalized}` };
  return { ok: false, reason: `${range} address ${normalized}` };
}

/** The IPv6 forms that carry an IPv4 address in their low 32 bits: IPv4-compatible, NAT64, IPv4-translated. */
const EMBEDDING_V6 = ['::/96', '64:ff9b::/96', '::ffff:0:0:0/96'].map((c) => ipaddr.parseCIDR(c));
const METADATA_V4 = ipaddr.parse('169.254.169.254').toByteArray().join('.');

/** Whether `address` reaches the IPv4 metadata service through an IPv6 form that embeds it (NAT64 does). */
function embedsMetadata(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.kind() !== 'ipv6') return false;
  const v6 = address as ipaddr.IPv6;
  if (!EMBEDDING_V6.some((range) => v6.match(range))) return false;
  return v6.toByteArray().slice(12).join('.') === METADATA_V4;
}
