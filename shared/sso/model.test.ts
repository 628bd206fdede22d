import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  emailDomainAllowed,
  issuerAllowed,
  linkerMatches,
  safeReturnTo,
  ssoSatisfied,
  ssoStartUrl,
} from './model.js';
import { pinnedIdTokenAlg } from './oidc-client.js';
import { signState, stateMatches, verifyState } from './state-cookie.js';

const key = randomBytes(32);
const state = {
  orgId: '7b0c7c1e-4a7e-4d8e-9a51-1f3a0c2b9d11',
  state: 's'.repeat(43),
  nonce: 'n'.repeat(43),
  codeVerifier: 'v'.repeat(43),
  returnTo: 'https://app.example.com/',
};

describe('the SSO state cookie', () => {
  it('opens for 10 minutes and not a moment longer', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const cookie = signState(key, state, now);
    expect(verifyState(key, cookie, new Date(now.getTime() + 599_999))).toMatchObject(state);
    expect(verifyState(key, cookie, new Date(now.getTime() + 600_000))).toBeNull();
  });

  it('does not open when tampered, signed with another key, or missing', () => {
    const now = new Date();
    const cookie = signState(key, state, now);
    const [body, mac] = cookie.split('.') as [string, string];
    const forgedBody = Buffer.from(
      JSON.stringify({
        ...state,
        orgId: '00000000-0000-4000-8000-000000000000',
        expiresAt: now.getTime() + 1e6,
      }),
    ).toString('base64url');
    expect(verifyState(key, `${forgedBody}.${mac}`, now)).toBeNull();
    expect(verifyState(randomBytes(32), cookie, now)).toBeNull();
    expect(verifyState(key, `${body}.`, now)).toBeNull();
    expect(verifyState(key, undefined, now)).toBeNull();
  });

  it('carries the linking session, and a cookie whose link was edited does not open', () => {
    const now = new Date();
    const link = {
      userId: '1b0c7c1e-4a7e-4d8e-9a51-1f3a0c2b9d11',
      sessionId: '2b0c7c1e-4a7e-4d8e-9a51-1f3a0c2b9d11',
    };
    const cookie = signState(key, { ...state, link }, now);
    expect(verifyState(key, cookie, now)?.link).toEqual(link);
    expect(verifyState(key, signState(key, state, now), now)?.link).toBeUndefined();
    const [body, mac] = cookie.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const edited = Buffer.from(
      JSON.stringify({ ...decoded, link: { ...link, userId: '3b0c7c1e-4a7e-4d8e-9a51-1f3a0c2b9d11' } }),
    ).toString('base64url');
    expect(verifyState(key, `${edited}.${mac}`, now)).toBeNull();
  });

  it('compares the query state exactly', () => {
    expect(stateMatches('abc', 'abc')).toBe(true);
    expect(stateMatches('abc', 'abd')).toBe(false);
    expect(stateMatches('abc', 'abcd')).toBe(false);
    expect(stateMatches('abc', undefined)).toBe(false);
  });
});

describe('returnTo', () => {
  const origins = ['https://app.example.com', 'https://console.example.com'];
  it('defaults to APP_URL and keeps URLs on configured origins', () => {
    expect(safeReturnTo(undefined, origins, 'https://app.example.com')).toEqual({
      ok: true,
      url: 'https://app.example.com/',
    });
    expect(safeReturnTo('https://console.example.com/a?b=1', origins, 'https://app.example.com')).toEqual({
      ok: true,
      url: 'https://console.example.com/a?b=1',
    });
  });

  it('refuses other origins, look-alikes, relative and script URLs, and credentials', () => {
    for (const bad of [
      'https://evil.example.net/',
      'https://app.example.com.evil.net/',
      'http://app.example.com/',
      '//evil.example.net/',
      '/relative',
      'javascript:alert(1)',
      'https://user:pw@app.example.com/',
    ]) {
      expect([bad, safeReturnTo(bad, origins, 'https://app.example.com').ok]).toEqual([bad, false]);
    }
  });
});

describe('email domains, issuers and algorithms', () => {
  it('matches the email domain exactly, case-insensitively', () => {
    expect(emailDomainAllowed('Ada@ACME.com', ['acme.com'])).toBe(true);
    expect(emailDomainAllowed('ada@evil-acme.com', ['acme.com'])).toBe(false);
    expect(emailDomainAllowed('ada@sub.acme.com', ['acme.com'])).toBe(false);
    expect(emailDomainAllowed('acme.com', ['acme.com'])).toBe(false);
  });

  it('allows plain http only for loopback issuers, and only when told to', () => {
    expect(issuerAllowed('https://login.acme.com', false)).toBe(true);
    expect(issuerAllowed('http://127.0.0.1:9000', true)).toBe(true);
    expect(issuerAllowed('http://127.0.0.1:9000', false)).toBe(false);
    expect(issuerAllowed('http://idp.acme.com', true)).toBe(false);
    expect(issuerAllowed('https://login.acme.com/?x=1', false)).toBe(false);
  });

  it('pins RS256 or another advertised asymmetric algorithm, never none or HS256', () => {
    expect(pinnedIdTokenAlg(['none', 'HS256', 'RS256', 'ES256'])).toBe('RS256');
    expect(pinnedIdTokenAlg(['ES256', 'none'])).toBe('ES256');
    expect(pinnedIdTokenAlg(['none', 'HS256'])).toBeNull();
    expect(pinnedIdTokenAlg(undefined)).toBe('RS256');
  });
});

describe('linking and SSO-only rules', () => {
  const started = { userId: 'u1', sessionId: 's1' };

  it('finishes a link only in the session and for the user that started it', () => {
    expect(linkerMatches(started, { userId: 'u1', sessionId: 's1' })).toBe(true);
    expect(linkerMatches(started, { userId: 'u1', sessionId: 's2' })).toBe(false);
    expect(linkerMatches(started, { userId: 'u2', sessionId: 's1' })).toBe(false);
    expect(linkerMatches(started, null)).toBe(false);
  });

  it('lets only sessions bound to an SSO-only org act in it; other orgs admit every session', () => {
    const ssoOnly = { id: 'org-a', ssoRequired: true };
    expect(ssoSatisfied(ssoOnly, 'org-a')).toBe(true);
    expect(ssoSatisfied(ssoOnly, null)).toBe(false);
    expect(ssoSatisfied(ssoOnly, 'org-b')).toBe(false);
    const open = { id: 'org-a', ssoRequired: false };
    expect(ssoSatisfied(open, null)).toBe(true);
    expect(ssoSatisfied(open, 'org-a')).toBe(true);
  });

  it("points to the org's SSO start route", () => {
    expect(ssoStartUrl('https://app.example.com', 'acme')).toBe('https://app.example.com/api/login/sso/acme');
    expect(ssoStartUrl('https://app.example.com', 'a/b')).toBe('https://app.example.com/api/login/sso/a%2Fb');
  });
});
