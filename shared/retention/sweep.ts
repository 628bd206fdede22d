import { sql } from 'kysely';
import type { Tx } from '../bus/outbox.js';
import { type RetentionSettings, retentionCutoffs } from './policy.js';
import '../accounts/tables.js';
import '../mfa/tables.js';
import '../orgs/tables.js';
import '../sessions/tables.js';
import '../webhooks/tables.js';

export type RetentionReport = Record<
  'sessions' | 'devices' | 'oneTimeTokens' | 'mfaChallenges' | 'invitations' | 'webhookDeliveries',
  number
>;

const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);

/**
 * The maintenance sweep's retention pass: deletes what has stopped mattering for longer than its
 * configured days (retentionCutoffs). Audit rows are never touched here: they outlive all of it.
 */
export async function purgeExpiredData(
  tx: Tx,
  now: Date,
  settings: RetentionSettings,
): Promise<RetentionReport> {
  const cut = retentionCutoffs(now, settings);
  // A session ended at the first of: its revocation, its absolute expiry, its idle expiry.
  const sessions = count(
    await tx
      .deleteFrom('sessions')
      .where(
        sql<Date>`least(coalesce(revoked_at, expires_at), expires_at, last_seen_at + idle_timeout_minutes * interval '1 minute')`,
        '<',
        cut.sessionsEndedBefore,
      )
      .executeTakeFirst(),
  );
  const devices = count(
    await tx
      .deleteFrom('known_devices')
      .where('deleted_at', '<', cut.devicesForgottenBefore)
      .executeTakeFirst(),
  );
  const oneTimeTokens = count(
    await tx
      .deleteFrom('one_time_tokens')
      .where((eb) =>
        eb.or([eb('used_at', '<', cut.tokensDoneBefore), eb('expires_at', '<', cut.tokensDoneBefore)]),
      )
      .executeTakeFirst(),
  );
  const mfaChallenges = count(
    await tx
      .deleteFrom('mfa_challenges')
      .where((eb) =>
        eb.or([eb('used_at', '<', cut.tokensDoneBefore), eb('expires_at', '<', cut.tokensDoneBefore)]),
      )
      .executeTakeFirst(),
  );
  const invitations = count(
    await tx
      .deleteFrom('invitations')
      .where((eb) =>
        eb.or([
          eb('accepted_at', '<', cut.invitationsSettledBefore),
          eb('revoked_at', '<', cut.invitationsSettledBefore),
        ]),
      )
      .executeTakeFirst(),
  );
  // Pending deliveries are never here: only a delivery that finished (delivered or failed) has finished_at.
  const webhookDeliveries = count(
    await tx
      .deleteFrom('webhook_deliveries')
      .where('finished_at', '<', cut.webhookDeliveriesFinishedBefore)
      .executeTakeFirst(),
  );
  return { sessions, devices, oneTimeTokens, mfaChallenges, invitations, webhookDeliveries };
}
