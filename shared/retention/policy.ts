import { DAY_MS } from '../time/clock.js';

/** SESSION_RETENTION_DAYS and TOKEN_RETENTION_DAYS (README "Data retention"). */
export interface RetentionSettings {
  sessionDays: number;
  tokenDays: number;
}

export interface RetentionCutoffs {
  /** Sessions that ended (revoked, expired or idle) before this go, with their per-org activity. */
  sessionsEndedBefore: Date;
  /** Devices forgotten before this go. */
  devicesForgottenBefore: Date;
  /** One-time tokens and MFA challenges used or expired before this go. */
  tokensDoneBefore: Date;
  /** Invitations accepted or withdrawn before this go (they hold the invitee's address). */
  invitationsSettledBefore: Date;
  /** Webhook deliveries (with their attempts and payload) that finished, delivered or failed, before this go. */
  webhookDeliveriesFinishedBefore: Date;
}

/** What is old enough to delete at `now`: each kind is kept its configured days after it stopped mattering. */
export function retentionCutoffs(now: Date, settings: RetentionSettings): RetentionCutoffs {
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return {
    sessionsEndedBefore: daysAgo(settings.sessionDays),
    devicesForgottenBefore: daysAgo(settings.sessionDays),
    tokensDoneBefore: daysAgo(settings.tokenDays),
    invitationsSettledBefore: daysAgo(settings.tokenDays),
    webhookDeliveriesFinishedBefore: daysAgo(settings.tokenDays),
  };
}
