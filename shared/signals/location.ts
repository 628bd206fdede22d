import ipaddr from 'ipaddr.js';

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
 * Returns the address as the database is asked for it (an IPv4-mapped IPv6 address as IPv4), or
 * null; the address is parsed once.
 */
export function locatableAddress(ip: string): { address: string; family: 4 | 6 } | null {
  if (!ipaddr.isValid(ip)) return null;
  let parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.range() !== 'unicast') return null;
  return { address: parsed.toString(), family: parsed.kind() === 'ipv4' ? 4 : 6 };
}

export function isLocatable(ip: string): boolean {
  return locatableAddress(ip) !== null;
}

const COUNTRY_CODE = /^[A-Z]{2}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isLatitude = (v: unknown): v is number => typeof v === 'number' && v >= -90 && v <= 90;
const isLongitude = (v: unknown): v is number => typeof v === 'number' && v >= -180 && v <= 180;
const isCountry = (v: unknown): v is string => typeof v === 'string' && COUNTRY_CODE.test(v);

/**
 * A database record in either layout, or null when it lacks a country or coordinates: the flat
 * record of the ip-location-db packages (`{country_code, city, latitude, longitude, …}`) or
 * MaxMind's GeoIP2/GeoLite2 City layout (a commercial database given in GEOIP_DATABASE).
 * Checked by hand, not with a schema library: it runs for every new address a sign-in comes from.
 */
export function toLocation(record: unknown): Location | null {
  if (!isObject(record)) return null;
  if (isCountry(record.country_code)) {
    const { city, latitude, longitude } = record;
    if (!isLatitude(latitude) || !isLongitude(longitude)) return null;
    if (city !== undefined && typeof city !== 'string') return null;
    return {
      country: record.country_code,
      city: city || null,
      latitude,
      longitude,
      accuracyRadiusKm: DEFAULT_ACCURACY_RADIUS_KM,
    };
  }
  const { country, city, location } = record;
  if (!isObject(country) || !isCountry(country.iso_code) || !isObject(location)) return null;
  const { latitude, longitude, accuracy_radius: radius } = location;
  if (!isLatitude(latitude) || !isLongitude(longitude)) return null;
  if (radius !== undefined && (typeof radius !== 'number' || !(radius >= 0))) return null;
  let cityName: string | null = null;
  if (city !== undefined) {
    if (!isObject(city) || !isObject(city.names)) return null;
    const en = city.names.en;
    if (en !== undefined && typeof en !== 'string') return null;
    cityName = en ?? null;
  }
  return {
    country: country.iso_code,
    city: cityName,
    latitude,
    longitude,
    accuracyRadiusKm: radius ?? DEFAULT_ACCURACY_RADIUS_KM,
  };
}
