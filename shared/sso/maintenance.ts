import type { Tx } from '../bus/outbox.js';
import './tables.js';

/**
 * Forgets SSO state nothing can use any more: SAML requests past their ten minutes, assertion ids
 * past their expiry (an expired assertion is refused by its time window, so its id need not be
 * remembered), and link confirmations past their day. Returns how many rows of each went.
 */
export async function forgetExpiredSsoState(
  tx: Tx,
  now: Date,
): Promise<{ samlRequests: number; samlAssertions: number; linkConfirmations: number }> {
  const requests = await tx.deleteFrom('saml_requests').where('expires_at', '<', now).executeTakeFirst();
  const assertions = await tx.deleteFrom('saml_assertions').where('expires_at', '<', now).executeTakeFirst();
  const links = await tx
    .deleteFrom('sso_link_confirmations')
    .where('expires_at', '<', now)
    .executeTakeFirst();
  return {
    samlRequests: Number(requests.numDeletedRows),
    samlAssertions: Number(assertions.numDeletedRows),
    linkConfirmations: Number(links.numDeletedRows),
  };
}
