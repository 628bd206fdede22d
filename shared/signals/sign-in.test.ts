import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import type { Location } from './location.js';
import { SignInWatch } from './sign-in.js';

const berlin: Location = {
  country: 'DE',
  city: 'Berlin',
  latitude: 52.52,
  longitude: 13.32,
  accuracyRadiusKm: 100,
};

function watch(locate: (ip: string) => Promise<Location | null>, lines: string[] = []) {
  return new SignInWatch({
    locator: { locate },
    sessions: { lastLocatedSignIn: async () => null },
    mailKeys: async () => ({ currentKeyId: 'k', keys: new Map() }),
    appUrl: 'https://app.example',
    logger: createLogger('error', (line) => lines.push(line)),
  });
}

describe('the sign-in watch', () => {
  it('a location database that cannot be read leaves the sign-in unlocated and logs why, never failing it', async () => {
    const lines: string[] = [];
    const located = await watch(async () => {
      throw new Error('ENOENT: geo.mmdb');
    }, lines).locate('8.8.8.8');
    expect(located).toBeNull();
    expect(lines.join('\n')).toContain('ip location database unavailable');
  });

  it('holds a session only for impossible travel', () => {
    const w = watch(async () => berlin);
    expect(w.holdFor(null)).toBeNull();
    const still = {
      location: berlin,
      previous: null,
      signals: { countryChanged: false, impossibleTravel: false, travel: null },
    };
    expect(w.holdFor(still)).toBeNull();
    const far = { ...still, signals: { ...still.signals, countryChanged: true, impossibleTravel: true } };
    expect(w.holdFor(far)).toBe('impossible_travel');
  });
});
