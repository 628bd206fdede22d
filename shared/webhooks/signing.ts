import { Webhook } from 'standardwebhooks';

/**
 * Signs one delivery per Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` for
 * each current secret, space-separated; receivers accept the delivery if any one verifies, so
 * during a rotation both the new and the previous secret sign.
 */
export function signatureHeader(
  signers: readonly Webhook[],
  webhookId: string,
  timestamp: Date,
  body: string,
): string {
  return signers.map((signer) => signer.sign(webhookId, timestamp, body)).join(' ');
}

/** A signer per secret (`whsec_…`); building one decodes the key, so callers keep them per endpoint. */
export function signers(secrets: readonly string[]): Webhook[] {
  return secrets.map((secret) => new Webhook(secret));
}
