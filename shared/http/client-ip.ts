import type { IncomingMessage } from 'node:http';

/**
 * The client address we trust. With TRUSTED_PROXY_HOPS=0 it is the socket peer; with n it is
 * the n-th entry from the right of X-Forwarded-For (each trusted proxy appends the address it
 * saw). Never the leftmost entry, which the client writes itself, and never Express's `req.ip`,
 * which the Functions Framework computes with "trust proxy" on.
 */
export function clientIp(req: IncomingMessage, trustedProxyHops: number): string {
  const socketIp = normalizeIp(req.socket?.remoteAddress ?? '');
  if (trustedProxyHops === 0) return socketIp;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  const hops = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (hops.length === 0) return socketIp;
  // Fewer entries than trusted hops: the request skipped a proxy, so the oldest entry is the best we have.
  const index = Math.max(0, hops.length - trustedProxyHops);
  return normalizeIp(hops[index] ?? socketIp);
}

/** Strips the IPv4-mapped prefix Node puts on IPv4 peers of dual-stack sockets, and any port. */
function normalizeIp(ip: string): string {
  let value = ip;
  if (/^\[.*\](:\d+)?$/.test(value)) value = value.slice(1, value.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  if (value.toLowerCase().startsWith('::ffff:') && value.includes('.')) value = value.slice(7);
  return value;
}
