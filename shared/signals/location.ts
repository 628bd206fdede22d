import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** Where an address is, as far as an offline database can tell. */
export interface Location {
  /** ISO 3166-1 alpha-2. */
  country: string;
  city: string | null;
  latitude: number;
  longitude: number;
  /** How far the true position may be from the coordinates. */
  accuracyRadiusKm: number;
}

/**
 * Databases without an accuracy radius (DB-IP Lite gives none) are read as "within 100 km": a
 * city-level guess. Wider radii only make the travel rule more lenient, never stricter.
 */
export const DEFAULT_ACCURACY_RADIUS_KM = 100;

/**
 * Only globally routed unicast addresses are looked up: loopback, private, CGNAT (100.64/10),
 * link-local, ULA, documentation and other special ranges say nothing about where a person is.
 */
export function isLocatable(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  let parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

const latitude = z.number().min(-90).max(90);
const longitude = z.number().min(-180).max(180);
const countryCode = z.string().regex(/^[A-Z]{2}$/);

/** The flat record of the ip-location-db packages: `{country_code, city, latitude, longitude, …}`. */
const flatRecord = z.object({
  country_code: countryCode,
  city: z.string().optional(),
  latitude,
  longitude,
});

/** MaxMind's GeoIP2/GeoLite2 City layout (a commercial database given in GEOIP_DATABASE). */
const maxmindRecord = z.object({
  country: z.object({ iso_code: countryCode }),
  city: z.object({ names: z.record(z.string(), z.string()) }).optional(),
  location: z.object({ latitude, longitude, accuracy_radius: z.number().nonnegative().optional() }),
});

/** A database record in either layout, or null when it lacks a country or coordinates. */
export function toLocation(record: unknown): Location | null {
  const flat = flatRecord.safeParse(record);
  if (flat.success) {
    return {
      country: flat.data.country_code,
      city: flat.data.city || null,
      latitude: flat.data.latitude,
      longitude: flat.data.longitude,
      accuracyRadiusKm: DEFAULT_ACCURACY_RADIUS_KM,
    };
  }
  const mm = maxmindRecord.safeParse(record);
  if (!mm.success) return null;
  return {
    country: mm.data.country.iso_code,
    city: mm.data.city?.names.en ?? null,
    latitude: mm.data.location.latitude,
    longitude: mm.data.location.longitude,
    accuracyRadiusKm: mm.data.location.accuracy_radius ?? DEFAULT_ACCURACY_RADIUS_KM,
  };
}
