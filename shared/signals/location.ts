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

/** Plain dotted-decimal IPv4 (what proxies put in X-Forwarded-For): read without ipaddr.js. */
const DOTTED_QUAD =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/**
 * ipaddr.js's IPv4 special ranges (everything its range() does not call 'unicast'), as
 * [network, mask]; location.test.ts checks this list against ipaddr.js on every boundary.
 */
const NOT_UNICAST_V4: ReadonlyArray<readonly [number, number]> = (
  [
    ['0.0.0.0', 8],
    ['255.255.255.255', 32],
    ['224.0.0.0', 4],
    ['169.254.0.0', 16],
    ['127.0.0.0', 8],
    ['100.64.0.0', 10],
    ['10.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['240.0.0.0', 4],
    ['192.175.48.0', 24],
    ['192.31.196.0', 24],
    ['192.52.193.0', 24],
  ] as const
).map(([network, bits]) => {
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  const [a, b, c, d] = network.split('.').map(Number) as [number, number, number, number];
  return [(((a << 24) | (b << 16) | (c << 8) | d) & mask) >>> 0, mask] as const;
});

/**
 * Only globally routed unicast addresses are looked up: loopback, private, CGNAT (100.64/10),
 * link-local, ULA, documentation and other special ranges say nothing about where a person is.
 * Returns the address as the database is asked for it (an IPv4-mapped IPv6 address as IPv4), or
 * null; the address is parsed once.
 */
export function locatableAddress(ip: string): { address: string; family: 4 | 6 } | null {
  const quad = DOTTED_QUAD.exec(ip);
  if (quad) {
    const n = ((+quad[1]! << 24) | (+quad[2]! << 16) | (+quad[3]! << 8) | +quad[4]!) >>> 0;
    return NOT_UNICAST_V4.some(([base, mask]) => (n & mask) >>> 0 === base)
      ? null
      : { address: ip, family: 4 };
  }
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
