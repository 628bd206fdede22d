import { describe, expect, it } from 'vitest';
import { personalRouteAllowed } from './auth.js';

describe('sessions bound to an org (started by its SSO) on personal routes', () => {
  it('are refused unless the route declares boundSessions; personal sessions pass everywhere', () => {
    expect(personalRouteAllowed('org-a', { kind: 'session' })).toBe(false);
    expect(personalRouteAllowed('org-a', { kind: 'session', stepUp: true })).toBe(false);
    expect(personalRouteAllowed('org-a', { kind: 'session', boundSessions: true })).toBe(true);
    expect(personalRouteAllowed(null, { kind: 'session' })).toBe(true);
  });
});
