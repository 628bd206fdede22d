import { describe, expect, it } from 'vitest';
import { DEFAULT_ACCURACY_RADIUS_KM, isLocatable, toLocation } from './location.js';

describe('which addresses are located', () => {
  it('public IPv4 and IPv6 unicast addresses are', () => {
    for (const ip of ['8.8.8.8', '85.214.132.117', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
      expect(isLocatable(ip), ip).toBe(true);
    }
  });

  it('loopback, private, CGNAT, link-local, ULA, documentation and garbage are not', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '100.127.255.254',
      '169.254.1.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(isLocatable(ip), ip).toBe(false);
    }
  });
});

describe('reading a database record', () => {
  it('reads the ip-location-db layout with the default radius', () => {
    expect(
      toLocation({ country_code: 'DE', city: 'Berlin', latitude: 52.5, longitude: 13.3, postcode: '' }),
    ).toEqual({
      country: 'DE',
      city: 'Berlin',
      latitude: 52.5,
      longitude: 13.3,
      accuracyRadiusKm: DEFAULT_ACCURACY_RADIUS_KM,
    });
  });

  it("reads MaxMind's GeoIP2 City layout with its own accuracy radius", () => {
    expect(
      toLocation({
        country: { iso_code: 'JP', names: { en: 'Japan' } },
        city: { names: { en: 'Tokyo', de: 'Tokio' } },
        location: { latitude: 35.69, longitude: 139.69, accuracy_radius: 20 },
      }),
    ).toEqual({ country: 'JP', city: 'Tokyo', latitude: 35.69, longitude: 139.69, accuracyRadiusKm: 20 });
  });

  it('a record without a country or coordinates is no location', () => {
    expect(toLocation(null)).toBeNull();
    expect(toLocation({ country_code: 'ZZZ', latitude: 1, longitude: 2 })).toBeNull();
    expect(toLocation({ country: { iso_code: 'US' } })).toBeNull();
    expect(toLocation({ country_code: 'US', latitude: 91, longitude: 0 })).toBeNull();
    expect(toLocation({ country_code: 'US', city: 5, latitude: 1, longitude: 2 })).toBeNull();
    expect(toLocation({ country_code: 'US', latitude: '1', longitude: 2 })).toBeNull();
    expect(
      toLocation({
        country: { iso_code: 'US' },
        location: { latitude: 1, longitude: 2, accuracy_radius: -1 },
      }),
    ).toBeNull();
    expect(toLocation('US')).toBeNull();
  });
});
