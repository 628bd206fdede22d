import { describe, expect, it } from 'vitest';
import { emailDomain, signInVerdict, txtProves, txtRecordName, txtRecordValue } from './domains-model.js';

describe('domain verification records', () => {
  it('the record sits on its own label under the domain', () => {
    expect(txtRecordName('corp.example')).toBe('_sessionforge-verification.corp.example');
  });

  it('one record equal to the value proves control; strings of one record are joined', () => {
    const value = txtRecordValue('tok123');
    expect(txtProves([['v=spf1 -all'], [value]], 'tok123')).toBe(true);
    expect(txtProves([[value.slice(0, 5), value.slice(5)]], 'tok123')).toBe(true);
  });

  it('a record that only contains the value, another token, or strings spread over records prove nothing', () => {
    const value = txtRecordValue('tok123');
    expect(txtProves([[`${value} extra`]], 'tok123')).toBe(false);
    expect(txtProves([[txtRecordValue('tok1234')]], 'tok123')).toBe(false);
    expect(txtProves([[value.slice(0, 5)], [value.slice(5)]], 'tok123')).toBe(false);
    expect(txtProves([], 'tok123')).toBe(false);
  });
});

describe('sign-in at a verified domain', () => {
  it('the domain of an address is its normalized part after the last @', () => {
    expect(emailDomain('Ann@Corp.Example')).toBe('corp.example');
    expect(emailDomain('no-at-sign')).toBeNull();
  });

  it('without enforcement every first factor is allowed', () => {
    expect(signInVerdict({ enforceSso: false, allowBreakGlass: false }, 'google', false)).toBe('allowed');
  });

  it('with enforcement only an owner with a password passes, and only when break-glass is kept', () => {
    const enforced = { enforceSso: true, allowBreakGlass: true };
    expect(signInVerdict(enforced, 'password', true)).toBe('break_glass');
    expect(signInVerdict(enforced, 'password', false)).toBe('sso_required');
    expect(signInVerdict(enforced, 'google', true)).toBe('sso_required');
    expect(signInVerdict({ ...enforced, allowBreakGlass: false }, 'password', true)).toBe('sso_required');
  });
});
