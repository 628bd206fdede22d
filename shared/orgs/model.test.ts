import { describe, expect, it } from 'vitest';
import { roles } from '../http/route.js';
import {
  canGrant,
  canManage,
  effectiveIdleMinutes,
  invitationSurvives,
  isId,
  keySurvives,
  membershipActive,
  orgIdleCutoff,
  orgRoles,
  orgSessionCapDecision,
  raisesRole,
  sessionAllowedByPolicy,
} from './model.js';

const at = (iso: string) => new Date(iso);

describe('org model', () => {
  it('uses the same roles, in the same order, as the HTTP edge', () => {
    expect([...orgRoles]).toEqual([...roles]);
  });

  it('never lets anyone grant above their own role, and owner only by owners', () => {
    expect(canGrant('admin', 'admin')).toBe(true);
    expect(canGrant('admin', 'owner')).toBe(false);
    expect(canGrant('member', 'admin')).toBe(false);
    expect(canGrant('owner', 'owner')).toBe(true);
    expect(canManage('admin', 'owner')).toBe(false);
    expect(canManage('admin', 'admin')).toBe(true);
  });

  it('counts every step up as a raise, and a demotion or the same role as none', () => {
    expect(raisesRole('viewer', 'member')).toBe(true);
    expect(raisesRole('member', 'admin')).toBe(true);
    expect(raisesRole('admin', 'owner')).toBe(true);
    expect(raisesRole('viewer', 'owner')).toBe(true);
    expect(raisesRole('owner', 'admin')).toBe(false);
    expect(raisesRole('member', 'viewer')).toBe(false);
    for (const role of orgRoles) expect(raisesRole(role, role)).toBe(false);
  });

  it('picks the org idle timeout, else 1440 minutes for enterprise orgs, else 30', () => {
    expect(effectiveIdleMinutes({ idleTimeoutMinutes: 90, enterprise: false })).toBe(90);
    expect(effectiveIdleMinutes({ idleTimeoutMinutes: null, enterprise: true })).toBe(1440);
    expect(effectiveIdleMinutes({ idleTimeoutMinutes: null, enterprise: false })).toBe(30);
  });

  it('judges idle and absolute timeouts at their exact boundaries', () => {
    const policy = { idleTimeoutMinutes: 10, absoluteTimeoutHours: 2, enterprise: false };
    const session = { createdAt: at('2026-01-01T00:00:00Z'), lastActivityAt: at('2026-01-01T01:00:00Z') };
    expect(sessionAllowedByPolicy(policy, session, at('2026-01-01T01:09:59Z'))).toBe('ok');
    expect(sessionAllowedByPolicy(policy, session, at('2026-01-01T01:10:00Z'))).toBe('idle');
    expect(
      sessionAllowedByPolicy(
        policy,
        { ...session, lastActivityAt: at('2026-01-01T01:59:00Z') },
        at('2026-01-01T02:00:00Z'),
      ),
    ).toBe('expired');
  });

  it('treats a membership as ended from its expires_at on', () => {
    expect(membershipActive(null, at('2030-01-01T00:00:00Z'))).toBe(true);
    expect(membershipActive(at('2026-01-01T00:00:00Z'), at('2025-12-31T23:59:59Z'))).toBe(true);
    expect(membershipActive(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'))).toBe(false);
  });

  it('starts the org idle window at the exact idle timeout before now', () => {
    const now = at('2026-01-01T01:00:00Z');
    expect(orgIdleCutoff({ idleTimeoutMinutes: 10, enterprise: false }, now)).toEqual(
      at('2026-01-01T00:50:00Z'),
    );
    expect(orgIdleCutoff({ idleTimeoutMinutes: null, enterprise: false }, now)).toEqual(
      at('2026-01-01T00:30:00Z'),
    );
  });

  it("caps a user's live sessions in one org: under the cap enters, at it refuses or ends the oldest", () => {
    expect(orgSessionCapDecision(5, { max: null, onLimit: 'refuse' })).toEqual({
      refuse: false,
      endOldest: 0,
    });
    expect(orgSessionCapDecision(1, { max: 2, onLimit: 'refuse' })).toEqual({ refuse: false, endOldest: 0 });
    expect(orgSessionCapDecision(2, { max: 2, onLimit: 'refuse' })).toEqual({ refuse: true });
    expect(orgSessionCapDecision(2, { max: 2, onLimit: 'revoke_oldest' })).toEqual({
      refuse: false,
      endOldest: 1,
    });
    // A cap lowered below what is live ends enough of the oldest to make room for one more.
    expect(orgSessionCapDecision(5, { max: 2, onLimit: 'revoke_oldest' })).toEqual({
      refuse: false,
      endOldest: 4,
    });
  });

  it('keeps only the keys a removed or demoted creator could still mint', () => {
    expect(keySurvives(null, 'viewer')).toBe(false);
    expect(keySurvives('member', 'admin')).toBe(false);
    expect(keySurvives('member', 'member')).toBe(true);
    expect(keySurvives('member', 'viewer')).toBe(true);
    expect(keySurvives('admin', 'owner')).toBe(false);
    expect(keySurvives('owner', 'owner')).toBe(true);
  });

  it('keeps an invitation only while its inviter is an admin or owner who could grant its role', () => {
    expect(invitationSurvives(null, 'viewer')).toBe(false);
    expect(invitationSurvives('member', 'viewer')).toBe(false);
    expect(invitationSurvives('admin', 'admin')).toBe(true);
    expect(invitationSurvives('admin', 'owner')).toBe(false);
    expect(invitationSurvives('owner', 'owner')).toBe(true);
  });

  it('accepts only uuid-shaped ids', () => {
    expect(isId('00000000-0000-4000-8000-000000000000')).toBe(true);
    expect(isId('nope')).toBe(false);
    expect(isId("1' or 1=1")).toBe(false);
  });
});
