import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkAddress } from '../outbound/address-policy.js';
import type { Resolver } from '../outbound/client.js';

export interface UrlPolicy {
  allowPrivate: boolean;
  allowHttp: boolean;
  resolve?: Resolver;
}

const defaultResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/**
 * Checks an endpoint URL when it is saved, so an admin learns at once that it cannot work: https
 * (plain http only where the outbound client allows it) and a host whose every address passes the
 * outbound address policy. The client checks again at every delivery (DNS can change); this is the
 * early answer, not the guard. The answer never says which address was refused or why, so the form
 * cannot be used to map the network.
 */
export async function checkEndpointUrl(raw: string, policy: UrlPolicy): Promise<string | null> {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return 'The endpoint must use https://.';
  }
  const refused =
    'This address is private, loopback, link-local or a metadata service, which webhooks may not reach.';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return checkAddress(host, policy.allowPrivate).ok ? null : refused;
  // One answer for a name that does not resolve and one that resolves inside: otherwise the form
  // tells which internal names exist (split-horizon DNS, the cloud's *.internal names).
  const unusable =
    'This host name does not resolve, or resolves to a private, loopback, link-local or a metadata address, which webhooks may not reach.';
  let answers: Array<{ address: string }>;
  try {
    answers = await (policy.resolve ?? defaultResolver)(host);
  } catch {
    return unusable;
  }
  if (answers.length === 0) return unusable;
  return answers.every((a) => checkAddress(a.address, policy.allowPrivate).ok) ? null : unusable;
}
