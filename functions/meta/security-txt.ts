import { DAY_MS } from '../../shared/time/clock.js';

export interface SecurityTxtSettings {
  contact: string;
  policyUrl: string;
  languages: string;
  appUrl: string;
}

/**
 * RFC 9116 security.txt. `Expires` rolls: always 364 days ahead, at the start of that UTC day, so
 * it stays under the RFC's "less than a year" and a cached copy never claims more.
 */
export function securityTxt(settings: SecurityTxtSettings, now: Date): string {
  const day = new Date(now.getTime() + 364 * DAY_MS);
  day.setUTCHours(0, 0, 0, 0);
  return [
    `Contact: ${settings.contact}`,
    `Expires: ${day.toISOString()}`,
    `Policy: ${settings.policyUrl}`,
    `Preferred-Languages: ${settings.languages}`,
    `Canonical: ${settings.appUrl}/.well-known/security.txt`,
    '',
  ].join('\n');
}
