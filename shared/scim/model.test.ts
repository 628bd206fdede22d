import { describe, expect, it } from 'vitest';
import { activeValue, groupIdOf, pageOf, parseFilter } from './model.js';

describe('SCIM filters', () => {
  it('reads the equality filters identity providers send, attribute names case-insensitively', () => {
    expect(parseFilter('userName eq "ann@corp.test"', 'User')).toEqual({
      ok: true,
      filter: { attribute: 'userName', value: 'ann@corp.test' },
    });
    expect(parseFilter('  USERNAME EQ "a@b.c"  ', 'User')).toMatchObject({
      ok: true,
      filter: { attribute: 'userName' },
    });
    expect(parseFilter('externalId eq "00u1"', 'User')).toMatchObject({
      ok: true,
      filter: { value: '00u1' },
    });
    expect(
      parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@b.c"', 'User'),
    ).toMatchObject({
      ok: true,
      filter: { attribute: 'userName' },
    });
    expect(parseFilter('displayName eq "Admins"', 'Group')).toMatchObject({
      ok: true,
      filter: { attribute: 'displayName' },
    });
  });

  it('decodes JSON escapes in the value and keeps quotes as data', () => {
    expect(parseFilter('userName eq "a\\"b"', 'User')).toMatchObject({ ok: true, filter: { value: 'a"b' } });
    expect(parseFilter('userName eq "\\u0041"', 'User')).toMatchObject({ ok: true, filter: { value: 'A' } });
  });

  it.each([
    'userName eq "a" and externalId eq "b"',
    'userName pr',
    'userName sw "a"',
    'displayName eq "Admins"',
    'userName eq "\\u0000"',
    'userName eq "\\x41"',
    'userName eq "a\nb"',
    '',
  ])('refuses %j on Users', (text) => {
    expect(parseFilter(text, 'User').ok).toBe(false);
  });

  it('refuses a User attribute on Groups', () => {
    expect(parseFilter('userName eq "a@b.c"', 'Group').ok).toBe(false);
  });
});

describe('SCIM values', () => {
  it("understands Entra ID's string booleans and nothing else", () => {
    expect(activeValue(false)).toBe(false);
    expect(activeValue('False')).toBe(false);
    expect(activeValue('TRUE')).toBe(true);
    expect(activeValue('no')).toBeNull();
    expect(activeValue(0)).toBeNull();
  });

  it('clamps paging as RFC 7644 §3.4.2.4 says, and at most 200 a page', () => {
    expect(pageOf(undefined, undefined)).toEqual({ startIndex: 1, count: 100 });
    expect(pageOf(-5, -1)).toEqual({ startIndex: 1, count: 0 });
    expect(pageOf(3, 10_000)).toEqual({ startIndex: 3, count: 200 });
  });

  it('names groups by role or display name, and never the owner', () => {
    expect(groupIdOf('Admins')).toBe('admin');
    expect(groupIdOf('viewer')).toBe('viewer');
    expect(groupIdOf('Owners')).toBeNull();
    expect(groupIdOf('owner')).toBeNull();
  });
});
