import { describe, expect, it } from 'vitest';
import { securityTxt } from './security-txt.js';

const settings = {
  contact: 'mailto:security@example.com',
  policyUrl: 'https://example.com/security',
  languages: 'en, de',
  appUrl: 'https://app.example.com',
};

describe('security.txt (RFC 9116)', () => {
  it('carries Contact, Expires, Policy, Preferred-Languages and Canonical from the settings', () => {
    expect(securityTxt(settings, new Date('2026-07-01T15:30:00Z'))).toBe(
      [
        'Contact: mailto:security@example.com',
        'Expires: 2027-06-30T00:00:00.000Z',
        'Policy: https://example.com/security',
        'Preferred-Languages: en, de',
        'Canonical: https://app.example.com/.well-known/security.txt',
        '',
      ].join('\n'),
    );
  });

  it('keeps Expires less than a year ahead whatever the time of day', () => {
    for (const at of ['2026-01-01T00:00:00Z', '2026-12-31T23:59:59Z', '2028-02-29T12:00:00Z']) {
      const now = new Date(at);
      const expires = new Date(/Expires: (.*)/.exec(securityTxt(settings, now))?.[1] ?? '');
      const oneYearAhead = new Date(now);
      oneYearAhead.setUTCFullYear(now.getUTCFullYear() + 1);
      expect(expires.getTime()).toBeGreaterThan(now.getTime() + 360 * 86_400_000);
      expect(expires.getTime()).toBeLessThan(oneYearAhead.getTime());
    }
  });
});
