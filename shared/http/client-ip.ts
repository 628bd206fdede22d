import type { IncomingMessage } from 'node:http';
import { canonicalAddress } from '../allowlist/address.js';

/**
 * The client address we trust, in canonical form (dotted quad for IPv4 and IPv4-mapped IPv6,
 * RFC 5952 for IPv6), or null when it cannot be determined. With TRUSTED_PROXY_HOPS=0 it is the
 * socket peer; with n it is the n-th entry from the right of X-Forwarded-For (each trusted proxy
 * appends the address it saw). Never the leftmost entry, which the client writes itself, and never
 * Express's `req.ip`, which the Functions Framework computes with "trust proxy" on.
 *
 * Null means "unknown", and the router refuses the request: an entry that is not an address
 * (`not-an-ip`, `unknown`, a hostname, an octal or short IPv4 form, a zone id) must never become a
 * session's address or a throttle bucket of its own.
 */
export function clientIp(req: IncomingMessage, trustedProxyHops: number): string | null {
  const socketIp = addressOf(req.socket?.remoteAddress ?? '');
  if (trustedProxyHops === 0) return socketIp;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  const hops = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  // No header at all: the request reached us without passing a proxy (local runs, direct probes).
  if (hops.length === 0) return socketIp;
  // Fewer entries than trusted hops: the request skipped an outer proxy, so the oldest entry is
  // the address the first proxy it did pass saw. Refusing would not make spoofing harder (whoever
  // can skip a proxy can also write the missing entries), and the entry is still validated below.
  const index = Math.max(0, hops.length - trustedProxyHops);
  return addressOf(hops[index] ?? '');
}

/**
 * One address as a proxy or the socket writes it: bare, `[v6]`, `[v6]:port` or `v4:port`
 * (some proxies append the port). Anything else is null.
 */
function addressOf(entry: string): string | null {
  // A pure function of its input, asked for the same few addresses on every request: remembered
  // (bounded, so a flood of distinct forwarded addresses cannot grow it).
  const known = canonical.get(entry);
  if (known !== undefined) return known;
  const address = parseAddress(entry);
  if (canonical.size >= 4096) canonical.clear();
  canonical.set(entry, address);
  return address;
}

const canonical = new Map<string, string | null>();

function parseAddress(entry: string): string | null {
  const withPort = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(entry) ?? /^([0-9.]+):(\d{1,5})$/.exec(entry);
  if (!withPort) return canonicalAddress(entry);
  if (withPort[2] !== undefined && Number(withPort[2]) > 65535) return null;
  return canonicalAddress(withPort[1] ?? '');
}
