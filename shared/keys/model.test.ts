import { describe, expect, it } from 'vitest';
import { issueVerdict, keyUsable, lastUsedDue } from './model.js';

const now = new Date('2026-03-02T09:00:00Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

describe('key rules', () => {
  it('treats a revoked key as unusable at once, and an expired one from its expiry instant', () => {
    expect(keyUsable({ expiresAt: null, revokedAt: null }, now)).toBe(true);
    expect(keyUsable({ expiresAt: null, revokedAt: at(-1) }, now)).toBe(false);
    expect(keyUsable({ expiresAt: at(1), revokedAt: null }, now)).toBe(true);
    expect(keyUsable({ expiresAt: now, revokedAt: null }, now)).toBe(false);
  });

  it('records a use at most once a minute', () => {
    expect(lastUsedDue(null, now)).toBe(true);
    expect(lastUsedDue(at(-59_999), now)).toBe(false);
    expect(lastUsedDue(at(-60_000), now)).toBe(true);
  });

  it.each([
    ['admin', 'viewer', false, 'ok'],
    ['admin', 'admin', false, 'ok'],
    ['admin', 'owner', true, 'role_too_high'],
    ['owner', 'admin', false, 'ok'],
    ['owner', 'owner', false, 'step_up_required'],
    ['owner', 'owner', true, 'ok'],
  ] as const)('lets an %s issue a %s key (step-up: %s) → %s', (caller, role, inStepUp, verdict) => {
    expect(issueVerdict({ role: caller, inStepUp }, { role, expiresAt: null }, now)).toBe(verdict);
  });

  it('refuses an expiry that is not in the future', () => {
    expect(issueVerdict({ role: 'admin', inStepUp: false }, { role: 'viewer', expiresAt: now }, now)).toBe(
      'expiry_in_past',
    );
    expect(issueVerdict({ role: 'admin', inStepUp: false }, { role: 'viewer', expiresAt: at(1) }, now)).toBe(
      'ok',
    );
  });
});
