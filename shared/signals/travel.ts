import type { Location } from './location.js';

/** Faster than an airliner: no person covers this ground speed between two sign-ins. */
export const IMPOSSIBLE_SPEED_KMH = 1000;
const EARTH_RADIUS_KM = 6371.0088;

export interface LocatedSignIn {
  location: Location;
  at: Date;
}

export interface TravelFacts {
  fromCountry: string;
  toCountry: string;
  /** Great-circle distance minus both accuracy radii (never below 0). */
  km: number;
  hours: number;
  /** km / hours; Infinity when the sign-ins are at the same instant but kilometres apart. */
  kmh: number;
}

export interface SignInSignals {
  countryChanged: boolean;
  impossibleTravel: boolean;
  travel: TravelFacts | null;
}

/** Haversine distance between two coordinates, in kilometres. */
export function distanceKm(
  a: Pick<Location, 'latitude' | 'longitude'>,
  b: Pick<Location, 'latitude' | 'longitude'>,
): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Compares a sign-in at `now` with the user's previous located sign-in. A different country is
 * a country change; a ground speed above IMPOSSIBLE_SPEED_KMH is impossible travel. The distance
 * first loses both accuracy radii, so two fuzzy positions in one metro area never look like a
 * flight, and only distance that certainly separates the two sign-ins counts.
 */
export function assessSignIn(previous: LocatedSignIn | null, current: Location, now: Date): SignInSignals {
  if (!previous) return { countryChanged: false, impossibleTravel: false, travel: null };
  const km = Math.max(
    0,
    distanceKm(previous.location, current) - previous.location.accuracyRadiusKm - current.accuracyRadiusKm,
  );
  const hours = Math.max(0, now.getTime() - previous.at.getTime()) / 3_600_000;
  const kmh = km === 0 ? 0 : hours === 0 ? Number.POSITIVE_INFINITY : km / hours;
  return {
    countryChanged: previous.location.country !== current.country,
    impossibleTravel: kmh > IMPOSSIBLE_SPEED_KMH,
    travel: {
      fromCountry: previous.location.country,
      toCountry: current.country,
      km: Math.round(km),
      hours: Math.round(hours * 1000) / 1000,
      kmh: Number.isFinite(kmh) ? Math.round(kmh) : kmh,
    },
  };
}
