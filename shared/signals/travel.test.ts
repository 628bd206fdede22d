import { describe, expect, it } from 'vitest';
import type { Location } from './location.js';
import { assessSignIn, distanceKm, IMPOSSIBLE_SPEED_KMH } from './travel.js';

const at = (radius: number, latitude: number, longitude: number, country: string): Location => ({
  country,
  city: null,
  latitude,
  longitude,
  accuracyRadiusKm: radius,
});
const mountainView = at(10, 37.422, -122.085, 'US');
const berlin = at(10, 52.5234, 13.3224, 'DE');
const t0 = new Date('2026-12-01T12:00:00Z');
const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe('the travel rule', () => {
  it('Mountain View to Berlin is about 9,100 km', () => {
    expect(distanceKm(mountainView, berlin)).toBeGreaterThan(9000);
    expect(distanceKm(mountainView, berlin)).toBeLessThan(9200);
  });

  it('a first located sign-in has nothing to compare with', () => {
    expect(assessSignIn(null, berlin, t0)).toEqual({
      countryChanged: false,
      impossibleTravel: false,
      travel: null,
    });
  });

  it('the US then Germany ten minutes later is a country change and impossible travel', () => {
    const signals = assessSignIn({ location: mountainView, at: t0 }, berlin, later(10));
    expect(signals.countryChanged).toBe(true);
    expect(signals.impossibleTravel).toBe(true);
    expect(signals.travel).toMatchObject({ fromCountry: 'US', toCountry: 'DE', hours: 0.167 });
    expect(signals.travel?.km).toBeGreaterThan(9000);
    expect(signals.travel?.kmh).toBeGreaterThan(50_000);
  });

  it('the same trip a day later is a country change but a possible flight', () => {
    const signals = assessSignIn({ location: mountainView, at: t0 }, berlin, later(24 * 60));
    expect(signals).toMatchObject({ countryChanged: true, impossibleTravel: false });
    expect(signals.travel?.kmh).toBeLessThan(IMPOSSIBLE_SPEED_KMH);
  });

  it('the accuracy radii are subtracted before the speed is judged', () => {
    // 300 km apart in 15 minutes is 1,200 km/h with exact positions, but each is only known
    // within 100 km: 100 km certainly covered is 400 km/h.
    const a = at(0, 50, 8, 'DE');
    const b = at(0, 50, 8 + 300 / (111.32 * Math.cos((50 * Math.PI) / 180)), 'DE');
    expect(assessSignIn({ location: a, at: t0 }, b, later(15)).impossibleTravel).toBe(true);
    const fuzzyA = { ...a, accuracyRadiusKm: 100 };
    const fuzzyB = { ...b, accuracyRadiusKm: 100 };
    const fuzzy = assessSignIn({ location: fuzzyA, at: t0 }, fuzzyB, later(15));
    expect(fuzzy.impossibleTravel).toBe(false);
    expect(fuzzy.travel?.km).toBeGreaterThan(95);
    expect(fuzzy.travel?.km).toBeLessThan(105);
  });

  it('positions whose radii overlap are never travel, even at the same instant', () => {
    const near = at(50, 52.6, 13.4, 'DE');
    expect(assessSignIn({ location: berlin, at: t0 }, near, t0)).toMatchObject({
      countryChanged: false,
      impossibleTravel: false,
      travel: { km: 0, kmh: 0 },
    });
  });

  it('two distant sign-ins at the same instant are impossible travel', () => {
    const signals = assessSignIn({ location: mountainView, at: t0 }, berlin, t0);
    expect(signals.impossibleTravel).toBe(true);
    expect(signals.travel?.kmh).toBe(Number.POSITIVE_INFINITY);
  });

  it('a country change across a border at walking distance is not travel', () => {
    const strasbourg = at(20, 48.5734, 7.7521, 'FR');
    const kehl = at(20, 48.5727, 7.8157, 'DE');
    const signals = assessSignIn({ location: strasbourg, at: t0 }, kehl, later(5));
    expect(signals).toMatchObject({ countryChanged: true, impossibleTravel: false });
  });
});
