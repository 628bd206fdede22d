import { describe, expect, it } from 'vitest';
import { roles } from '../http/route.js';
import {
  canGrant,
  canManage,
  effectiveIdleMinutes,
  isId,
  membershipActive,
  orgRoles,
  raisesRole,
  sessionAllowedByPolicy,
  sessionLimitDecision,
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
    const session = { createdAt: at('2026-01-01T00:00:00Z'), lastSeenAt: at('2026-01-01T01:00:00Z') };
    expect(sessionAllowedByPolicy(policy, session, at('2026-01-01T01:09:59Z'))).toBe('ok');
    expect(sessionAllowedByPolicy(policy, session, at('2026-01-01T01:10:00Z'))).toBe('idle');
    expect(
      sessionAllowedByPolicy(
        policy,
        { ...session, lastSeenAt: at('2026-01-01T01:59:00Z') },
        at('2026-01-01T02:00:00Z'),
      ),
    ).toBe('expired');
  });

  it('treats a membership as ended from its expires_at on', () => {
    expect(membershipActive(null, at('2030-01-01T00:00:00Z'))).toBe(true);
    expect(membershipActive(at('2026-01-01T00:00:00Z'), at('2025-12-31T23:59:59Z'))).toBe(true);
    expect(membershipActive(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'))).toBe(false);
  });

  it('lets the strictest org decide the session cap: any refusing org at its cap refuses', () => {
    expect(sessionLimitDecision(1, [{ max: 2, onLimit: 'refuse' }])).toEqual({
      refuse: false,
      revokeOldest: 0,
    });
    expect(sessionLimitDecision(2, [{ max: 2, onLimit: 'revoke_oldest' }])).toEqual({
      refuse: false,
      revokeOldest: 1,
    });
    expect(
      sessionLimitDecision(5, [
        { max: 4, onLimit: 'revoke_oldest' },
        { max: 2, onLimit: 'revoke_oldest' },
      ]),
    ).toEqual({ refuse: false, revokeOldest: 4 });
    expect(
      sessionLimitDecision(3, [
        { max: 2, onLimit: 'revoke_oldest' },
        { max: 3, onLimit: 'refuse' },
      ]),
    ).toEqual({ refuse: true });
  });

  it('accepts only uuid-shaped ids', () => {
    expect(isId('00000000-0000-4000-8000-000000000000')).toBe(true);
    expect(isId('nope')).toBe(false);
    expect(isId("1' or 1=1")).toBe(false);
  });
});
