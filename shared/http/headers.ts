import type { ServerResponse } from 'node:http';

/**
 * Sent on every response. The API serves JSON to programs, so it needs no scripts, frames or
 * caching: no-store keeps tokens and account data out of shared caches and browser history.
 */
export const securityHeaders: Record<string, string> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const securityHeaderEntries = Object.entries(securityHeaders);

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of securityHeaderEntries) res.setHeader(name, value);
}
