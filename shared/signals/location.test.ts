import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ACCURACY_RADIUS_KM, isLocatable, locatableAddress, toLocation } from './location.js';

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

describe('the dotted-quad fast path', () => {
  const byIpaddr = (ip: string) => ipaddr.parse(ip).range() === 'unicast';
  it('agrees with ipaddr.js on both sides of every special range and on random addresses', () => {
    type Range = [ipaddr.IPv4, number];
    const special = (ipaddr.IPv4.prototype as unknown as { SpecialRanges: Record<string, Range | Range[]> })
      .SpecialRanges;
    const ranges = Object.values(special).flatMap((r): Range[] =>
      Array.isArray(r[0]) ? (r as Range[]) : [r as Range],
    );
    const probes: string[] = [];
    for (const [network, bits] of ranges) {
      const base = network.toByteArray().reduce((n, byte) => n * 256 + byte, 0);
      const size = 2 ** (32 - bits);
      for (const n of [base - 1, base, base + size - 1, base + size]) {
        if (n < 0 || n > 0xffffffff) continue;
        probes.push([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
      }
    }
    for (let i = 0; i < 2000; i++) probes.push([...randomBytes(4)].join('.'));
    for (const ip of probes) expect(isLocatable(ip), ip).toBe(byIpaddr(ip));
  });

  it('unusual spellings go through ipaddr.js; an IPv4-mapped address is asked as IPv4', () => {
    expect(locatableAddress('8.8.8.8')).toEqual({ family: 4, ipv4: 0x08080808 });
    expect(locatableAddress('::ffff:8.8.8.8')).toEqual({ family: 4, ipv4: 0x08080808 });
    expect(locatableAddress('2001:4860:4860::8888')).toEqual({
      family: 6,
      ipv6: [0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888],
    });
    expect(locatableAddress('008.8.8.8')).toEqual(
      ipaddr.isValid('008.8.8.8') && byIpaddr('008.8.8.8') ? expect.any(Object) : null,
    );
    expect(locatableAddress('8.8.8.256')).toBeNull();
    expect(locatableAddress('not an address')).toBeNull();
  });

  it('reads every spelling to the same number ipaddr.js does, or to nothing when ipaddr.js finds no unicast address', () => {
    const asIpaddr = (ip: string) => {
      if (!ipaddr.isValid(ip)) return null;
      const parsed = ipaddr.process(ip);
      if (parsed.range() !== 'unicast') return null;
      if (parsed.kind() === 'ipv6') return { family: 6, ipv6: (parsed as ipaddr.IPv6).parts };
      return { family: 4, ipv4: parsed.toByteArray().reduce((n, byte) => n * 256 + byte, 0) };
    };
    const spellings = [
      '1.2.3.4',
      '255.254.253.252',
      '199.99.9.0',
      '08.8.8.8',
      '8.08.8.8',
      '8.8.8.00',
      '8.8.8.0',
      '8.8.8',
      '8.8.8.8.',
      '.8.8.8.8',
      '8..8.8',
      '8.8.8.8.8',
      '8.8.8.1000',
      '8.8.8.-1',
      ' 8.8.8.8',
      '8.8.8.8 ',
      '8.8.8.8%eth0',
      '0x8.8.8.8',
      '134744072',
      '1.2.3.4/24',
      '2001:4860:4860::8888',
      '::ffff:85.214.132.117',
      '::ffff:0:8.8.8.8',
      ':::',
      '',
    ];
    for (let i = 0; i < 2000; i++) spellings.push([...randomBytes(4)].join('.'));
    for (const ip of spellings) expect(locatableAddress(ip), ip).toEqual(asIpaddr(ip));
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
