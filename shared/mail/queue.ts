import { enqueue, type Tx } from '../bus/outbox.js';
import { type MailMessage, mailMessageSchema } from '../bus/topics.js';
import { type KeyRing, open, seal } from '../crypto/seal.js';

/**
 * Mail travels through the outbox and Pub/Sub sealed (AES-256-GCM), because its links carry live
 * tokens: neither the outbox table nor the topic ever holds one in the clear.
 */
const MAIL_AAD = 'sessionforge-mail-v1';

export async function queueMail(tx: Tx, ring: KeyRing, message: MailMessage, now: Date): Promise<void> {
  await enqueue(tx, 'mail-outbox', { sealed: seal(ring, JSON.stringify(message), MAIL_AAD) }, { now });
}

export function openMail(ring: KeyRing, sealed: string): MailMessage | null {
  const plain = open(ring, sealed, MAIL_AAD);
  if (!plain) return null;
  const parsed = mailMessageSchema.safeParse(JSON.parse(plain.toString('utf8')));
  return parsed.success ? parsed.data : null;
}
