import type { Network } from './address.js';

/**
 * The stored numeric form of a list (column `ip_allowlists.networks`): 18 bytes per entry, in entry
 * order — family (4 or 6), prefix length, then the network address in 16 bytes (IPv4 in the first
 * four). Reading it back costs a bounds check per entry, where validating 10,000 JSON objects with
 * zod took tens of milliseconds on every cache fill.
 */
const RECORD_BYTES = 18;

export function encodeNetworks(networks: readonly Network[]): Uint8Array {
  const bytes = new Uint8Array(networks.length * RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  networks.forEach((n, i) => {
    const at = i * RECORD_BYTES;
    view.setUint8(at, n.family);
    view.setUint8(at + 1, n.prefixLength);
    n.network.forEach((word, k) => {
      view.setUint32(at + 2 + 4 * k, word);
    });
  });
  return bytes;
}

/** Null when the bytes are not a well-formed encoding (the caller treats that as a store error). */
export function decodeNetworks(bytes: Uint8Array): Network[] | null {
  if (bytes.length % RECORD_BYTES !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const networks: Network[] = [];
  for (let at = 0; at < bytes.length; at += RECORD_BYTES) {
    const family = view.getUint8(at);
    const prefixLength = view.getUint8(at + 1);
    if (family === 4 && prefixLength <= 32) {
      networks.push({ family, prefixLength, network: [view.getUint32(at + 2)] });
    } else if (family === 6 && prefixLength <= 128) {
      networks.push({
        family,
        prefixLength,
        network: [
          view.getUint32(at + 2),
          view.getUint32(at + 6),
          view.getUint32(at + 10),
          view.getUint32(at + 14),
        ],
      });
    } else return null;
  }
  return networks;
}
