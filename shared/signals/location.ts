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
 * Plain dotted-decimal IPv4 (what proxies put in X-Forwarded-For) as a 32-bit number, read
 * without ipaddr.js and without allocating; -1 for anything else (leading zeros, other
 * spellings, IPv6), which goes to ipaddr.js.
 */
function dottedQuad(ip: string): number {
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return -1;
    } else if (c === 0x2e && digits > 0) {
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? address * 256 + octet : -1;
}

/**
 * ipaddr.js's IPv4 special ranges (everything its range() does not call 'unicast'), as
 * network, mask, network, mask, …; location.test.ts checks this list against ipaddr.js on every
 * boundary.
 */
const NOT_UNICAST_V4 = Uint32Array.from(
  (
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
  ).flatMap(([network, bits]) => {
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    const [a, b, c, d] = network.split('.').map(Number) as [number, number, number, number];
    return [(((a << 24) | (b << 16) | (c << 8) | d) & mask) >>> 0, mask];
  }),
);

/** An address as the database is asked for it: IPv4 as a 32-bit number, IPv6 as its eight 16-bit parts. */
export type LocatableAddress = { family: 4; ipv4: number } | { family: 6; ipv6: readonly number[] };

function isUnicastV4(address: number): boolean {
  for (let i = 0; i < NOT_UNICAST_V4.length; i += 2) {
    if ((address & NOT_UNICAST_V4[i + 1]!) >>> 0 === NOT_UNICAST_V4[i]) return false;
  }
  return true;
}

/**
 * Only globally routed unicast addresses are looked up: loopback, private, CGNAT (100.64/10),
 * link-local, ULA, documentation and other special ranges say nothing about where a person is.
 * Returns the address as numbers for the search tree (an IPv4-mapped IPv6 address as IPv4), or
 * null; the string is parsed once.
 */
export function locatableAddress(ip: string): LocatableAddress | null {
  const quad = dottedQuad(ip);
  if (quad >= 0) return isUnicastV4(quad) ? { family: 4, ipv4: quad } : null;
  if (!ipaddr.isValid(ip)) return null;
  // process(): an IPv4-mapped IPv6 address comes back as the IPv4 address it carries.
  const parsed = ipaddr.process(ip);
  if (parsed.range() !== 'unicast') return null;
  if (parsed.kind() === 'ipv6') return { family: 6, ipv6: (parsed as ipaddr.IPv6).parts };
  const [a, b, c, d] = (parsed as ipaddr.IPv4).octets as [number, number, number, number];
  return { family: 4, ipv4: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0 };
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
