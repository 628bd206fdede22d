import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * A decoded signing key: the bytes after `whsec_`, base64 (Standard Webhooks), as a KeyObject —
 * on Node 24 an HMAC keyed by a Buffer costs ~6× one keyed by a KeyObject (bench/results/webhooks.md).
 */
export type SigningKey = KeyObject;

/**
 * Signs one delivery per Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` for
 * each current secret, space-separated; receivers accept the delivery if any one verifies, so
 * during a rotation both the new and the previous secret sign.
 *
 * The HMAC is node:crypto's rather than the `standardwebhooks` package's pure-JavaScript one: the
 * same bytes (signing.test.ts checks them against the package's own `sign`, and every delivery
 * test verifies with the package's `verify`) at a fraction of the cost per delivery
 * (bench/results/webhooks.md).
 */
export function signatureHeader(
  keys: readonly SigningKey[],
  webhookId: string,
  timestamp: Date,
  body: string,
): string {
  const signed = `${webhookId}.${Math.floor(timestamp.getTime() / 1000)}.${body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(signed).digest('base64')}`).join(' ');
}

/** The keys of `whsec_…` secrets; decoding is done once per endpoint and kept by the deliverer. */
export function signers(secrets: readonly string[]): SigningKey[] {
  return secrets.map((secret) =>
    createSecretKey(Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64')),
  );
}
