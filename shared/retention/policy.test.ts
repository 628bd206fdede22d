import { describe, expect, it } from 'vitest';
import { retentionCutoffs } from './policy.js';

describe('retention cutoffs', () => {
  it('keep sessions and devices SESSION_RETENTION_DAYS, tokens, settled invitations and finished webhook deliveries TOKEN_RETENTION_DAYS', () => {
    const now = new Date('2026-07-01T00:00:00Z');
    expect(retentionCutoffs(now, { sessionDays: 90, tokenDays: 30 })).toEqual({
      sessionsEndedBefore: new Date('2026-04-02T00:00:00Z'),
      devicesForgottenBefore: new Date('2026-04-02T00:00:00Z'),
      tokensDoneBefore: new Date('2026-06-01T00:00:00Z'),
      invitationsSettledBefore: new Date('2026-06-01T00:00:00Z'),
      webhookDeliveriesFinishedBefore: new Date('2026-06-01T00:00:00Z'),
    });
  });
});
