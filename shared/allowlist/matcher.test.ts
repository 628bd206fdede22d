import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { type Cidr, parseAddress, parseEntry } from './address.js';
import { checkEntries } from './entries.js';
import { compileAllowlist } from './matcher.js';
import { decodeNetworks, encodeNetworks } from './networks.js';

const V4_MAX = 2n ** 32n - 1n;
const V6_MAX = 2n ** 128n - 1n;

function text(family: 4 | 6, value: bigint): string {
  const length = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = length - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

function cidr(entry: string): Cidr {
  const parsed = parseEntry(entry);
  if (!parsed.ok) throw new Error(`${entry}: ${parsed.message}`);
  return parsed.cidr;
}

/** The first and last address of an entry, as numbers. */
function bounds(c: Cidr): { first: bigint; last: bigint } {
  const first = c.network.reduce((acc, word) => (acc << 32n) | BigInt(word), 0n);
  const hostBits = BigInt((c.family === 4 ? 32 : 128) - c.prefixLength);
  return { first, last: first | ((1n << hostBits) - 1n) };
}

const matcherOf = (...entries: string[]) => compileAllowlist(entries.map(cidr));

/** The naive reference: every entry through ipaddr.js's own `match`, keeping the longest prefix. */
function reference(entries: readonly string[], ip: string): string | null {
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  let best: { canonical: string; bits: number } | null = null;
  for (const entry of entries) {
    const canonical = cidr(entry).cidr;
    const [network, bits] = ipaddr.parseCIDR(canonical);
    if (network.kind() !== address.kind() || !address.match(network, bits)) continue;
    if (!best || bits > best.bits) best = { canonical, bits };
  }
  return best?.canonical ?? null;
}

describe('parsing allowlist entries and addresses', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['192.168.1.7', '192.168.1.7/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0::/32', '2001:db8::/32'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:192.0.2.1', '192.0.2.1/32'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
  ])('accepts %s and stores it as %s', (input, canonical) => {
    const parsed = parseEntry(input);
    expect(parsed).toMatchObject({ ok: true, hostBitsCleared: false, cidr: { cidr: canonical } });
  });

  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.77/24', '192.168.1.0/24'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['1.2.3.4/0', '0.0.0.0/0'],
    ['::ffff:10.9.9.9/104', '10.0.0.0/8'],
  ])('clears the host bits of %s to %s and says so', (input, canonical) => {
    expect(parseEntry(input)).toMatchObject({ ok: true, hostBitsCleared: true, cidr: { cidr: canonical } });
  });

  it.each([
    ['a zone id', 'fe80::1%eth0'],
    ['a zone id with a prefix', 'fe80::%1/64'],
    ['a leading zero (octal or decimal?)', '010.1.1.1'],
    ['a leading zero in the last octet', '10.1.1.01'],
    ['a leading zero in a mapped tail', '::ffff:010.1.1.1'],
    ['a three-part address', '1.2.3'],
    ['a hexadecimal octet', '0x7f.0.0.1'],
    ['a single number', '16909060'],
    ['an octet above 255', '256.1.1.1'],
    ['an IPv4 prefix above 32', '1.2.3.4/33'],
    ['an IPv6 prefix above 128', '::/129'],
    ['a prefix with a leading zero', '1.2.3.4/024'],
    ['a signed prefix', '1.2.3.4/+8'],
    ['a negative prefix', '1.2.3.4/-1'],
    ['an empty prefix', '1.2.3.4/'],
    ['a prefix only', '/24'],
    ['two prefixes', '1.2.3.4/24/8'],
    ['surrounding spaces', ' 1.2.3.4'],
    ['two double colons', '1::2::3'],
    ['a host name', 'localhost'],
    ['garbage', 'not an address'],
    ['an empty string', ''],
  ])('rejects %s (%s)', (_label, input) => {
    expect(parseEntry(input).ok).toBe(false);
    if (!input.includes('/')) expect(parseAddress(input)).toBeNull();
  });

  it('reports every invalid entry with its index, not just the first', () => {
    const checked = checkEntries([
      { cidr: '10.0.0.0/8', label: '' },
      { cidr: 'fe80::1%eth0', label: '' },
      { cidr: '10.0.0.0/8', label: '' },
      { cidr: '010.1.1.1', label: '' },
      { cidr: 'nonsense', label: '' },
    ]);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.issues.map((issue) => issue.path)).toEqual([
      'entries.1.cidr',
      'entries.3.cidr',
      'entries.4.cidr',
    ]);
  });

  it('reports each rewritten entry with its reason', () => {
    const checked = checkEntries([
      { cidr: '10.1.2.3/8', label: 'office' },
      { cidr: '10.0.0.0/8', label: '' },
      { cidr: '2001:DB8::/32', label: '' },
      { cidr: '192.0.2.1', label: '' },
    ]);
    expect(checked).toMatchObject({
      ok: true,
      entries: [
        { cidr: '10.0.0.0/8', label: 'office' },
        { cidr: '10.0.0.0/8', label: '' },
        { cidr: '2001:db8::/32', label: '' },
        { cidr: '192.0.2.1/32', label: '' },
      ],
      normalized: [
        { index: 0, from: '10.1.2.3/8', to: '10.0.0.0/8', reason: 'host_bits_cleared' },
        { index: 2, from: '2001:DB8::/32', to: '2001:db8::/32', reason: 'rewritten' },
        { index: 3, from: '192.0.2.1', to: '192.0.2.1/32', reason: 'rewritten' },
      ],
    });
  });
});

describe('the compiled matcher at range boundaries', () => {
  const v4Base = 0xc0a8_0a37n; // 192.168.10.55
  const v6Base = 0x2001_0db8_85a3_0000_0000_8a2e_0370_7334n;

  it.each(Array.from({ length: 33 }, (_, prefix) => prefix))(
    'an IPv4 /%i contains exactly its first to last address',
    (prefix) => {
      const host = (1n << BigInt(32 - prefix)) - 1n;
      const first = v4Base & ~host;
      const last = first | host;
      const entry = `${text(4, first)}/${prefix}`;
      const matcher = matcherOf(entry);
      expect(matcher.matchText(text(4, first))).toBe(entry);
      expect(matcher.matchText(text(4, last))).toBe(entry);
      expect(matcher.matchText(`::ffff:${text(4, last)}`)).toBe(entry);
      if (first > 0n) expect(matcher.matchText(text(4, first - 1n))).toBeNull();
      if (last < V4_MAX) expect(matcher.matchText(text(4, last + 1n))).toBeNull();
    },
  );

  it.each(Array.from({ length: 129 }, (_, prefix) => prefix))(
    'an IPv6 /%i contains exactly its first to last address',
    (prefix) => {
      const host = (1n << BigInt(128 - prefix)) - 1n;
      const first = v6Base & ~host;
      const last = first | host;
      const entry = `${ipaddr.parse(text(6, first)).toString()}/${prefix}`;
      const matcher = matcherOf(entry);
      const canonical = cidr(entry).cidr;
      expect(matcher.matchText(text(6, first))).toBe(canonical);
      expect(matcher.matchText(text(6, last))).toBe(canonical);
      if (first > 0n) expect(matcher.matchText(text(6, first - 1n))).toBeNull();
      if (last < V6_MAX) expect(matcher.matchText(text(6, last + 1n))).toBeNull();
    },
  );

  it('a /0 covers its whole family and nothing of the other', () => {
    const v4 = matcherOf('0.0.0.0/0');
    expect(v4.matchText('0.0.0.0')).toBe('0.0.0.0/0');
    expect(v4.matchText('255.255.255.255')).toBe('0.0.0.0/0');
    expect(v4.matchText('::ffff:255.255.255.255')).toBe('0.0.0.0/0');
    expect(v4.matchText('::1')).toBeNull();
    const v6 = matcherOf('::/0');
    expect(v6.matchText('::')).toBe('::/0');
    expect(v6.matchText('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('::/0');
    expect(v6.matchText('10.0.0.1')).toBeNull();
    // A mapped client is an IPv4 client: "all IPv6" does not admit it.
    expect(v6.matchText('::ffff:10.0.0.1')).toBeNull();
  });

  it('a /32 and a /128 contain their one address only', () => {
    const matcher = matcherOf('203.0.113.9/32', '2001:db8::9/128');
    expect(matcher.matchText('203.0.113.9')).toBe('203.0.113.9/32');
    expect(matcher.matchText('203.0.113.8')).toBeNull();
    expect(matcher.matchText('203.0.113.10')).toBeNull();
    expect(matcher.matchText('2001:db8::9')).toBe('2001:db8::9/128');
    expect(matcher.matchText('2001:db8::8')).toBeNull();
    expect(matcher.matchText('2001:db8::a')).toBeNull();
  });

  it('answers the most specific of nested entries, and the outer one around it', () => {
    const matcher = matcherOf('10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.0.0/16');
    expect(matcher.matchText('10.1.2.3')).toBe('10.1.2.0/24');
    expect(matcher.matchText('10.1.3.0')).toBe('10.1.0.0/16');
    expect(matcher.matchText('10.1.1.255')).toBe('10.1.0.0/16');
    expect(matcher.matchText('10.2.0.0')).toBe('10.0.0.0/8');
    expect(matcher.matchText('10.0.255.255')).toBe('10.0.0.0/8');
    expect(matcher.matchText('11.0.0.0')).toBeNull();
  });

  it('matches IPv4-mapped IPv6 clients, in dotted and in hex form, against IPv4 entries', () => {
    const matcher = matcherOf('192.0.2.0/24');
    expect(matcher.matchText('::ffff:192.0.2.44')).toBe('192.0.2.0/24');
    expect(matcher.matchText('::ffff:c000:22c')).toBe('192.0.2.0/24');
    expect(matcher.matchText('::FFFF:192.0.2.1')).toBe('192.0.2.0/24');
    // IPv4-compatible (deprecated) and NAT64 forms are other IPv6 addresses, not the IPv4 one.
    expect(matcher.matchText('::192.0.2.44')).toBeNull();
    expect(matcher.matchText('64:ff9b::192.0.2.44')).toBeNull();
  });

  it('matches nothing for an address that does not parse', () => {
    const matcher = matcherOf('0.0.0.0/0', '::/0');
    for (const bad of ['', 'fe80::1%eth0', '010.1.1.1', 'garbage', '1.2.3']) {
      expect(matcher.matchText(bad)).toBeNull();
    }
  });
});

describe('the compiled matcher agrees with a linear ipaddr.js scan', () => {
  /** Entries around a few shared bases, so lists nest, overlap, repeat and abut. */
  const scenario = fc
    .record({
      v4Bases: fc.array(fc.bigInt({ min: 0n, max: V4_MAX }), { minLength: 1, maxLength: 3 }),
      v6Bases: fc.array(fc.bigInt({ min: 0n, max: V6_MAX }), { minLength: 1, maxLength: 3 }),
      entries: fc.array(
        fc.record({
          v6: fc.boolean(),
          base: fc.nat(),
          noise: fc.bigInt({ min: 0n, max: 0xffffn }),
          prefix: fc.nat(),
          mapped: fc.boolean(),
        }),
        { maxLength: 40 },
      ),
      probes: fc.array(
        fc.record({
          v6: fc.boolean(),
          base: fc.nat(),
          noise: fc.bigInt({ min: 0n, max: 0xfffffn }),
          mapped: fc.boolean(),
        }),
        { minLength: 1, maxLength: 30 },
      ),
    })
    .map(({ v4Bases, v6Bases, entries, probes }) => {
      const pick = (v6: boolean, base: number) =>
        v6 ? (v6Bases[base % v6Bases.length] as bigint) : (v4Bases[base % v4Bases.length] as bigint);
      const entryTexts = entries.map((e) => {
        const value = pick(e.v6, e.base) ^ e.noise;
        if (e.v6) return `${text(6, value)}/${e.prefix % 129}`;
        const prefix = e.prefix % 33;
        return e.mapped ? `::ffff:${text(4, value)}/${prefix + 96}` : `${text(4, value)}/${prefix}`;
      });
      const probeTexts = probes.map((p) => {
        const value = pick(p.v6, p.base) ^ p.noise;
        if (p.v6) return text(6, value & V6_MAX);
        return p.mapped ? `::ffff:${text(4, value & V4_MAX)}` : text(4, value & V4_MAX);
      });
      // The edges of every entry too: where an off-by-one would show.
      for (const entry of entryTexts) {
        const c = cidr(entry);
        const max = c.family === 4 ? V4_MAX : V6_MAX;
        const { first, last } = bounds(c);
        for (const edge of [first - 1n, first, last, last + 1n]) {
          if (edge >= 0n && edge <= max) probeTexts.push(text(c.family, edge));
        }
      }
      return { entryTexts, probeTexts };
    });

  it('returns the same most specific entry (or none) for every address', () => {
    fc.assert(
      fc.property(scenario, ({ entryTexts, probeTexts }) => {
        const matcher = matcherOf(...entryTexts);
        for (const probe of probeTexts) expect(matcher.matchText(probe)).toBe(reference(entryTexts, probe));
      }),
      { numRuns: 300 },
    );
  });

  it('compiles into at most two boundary points per entry', () => {
    fc.assert(
      fc.property(scenario, ({ entryTexts }) => {
        expect(matcherOf(...entryTexts).pointCount).toBeLessThanOrEqual(2 * entryTexts.length);
      }),
    );
  });
});

describe('the stored numeric form', () => {
  it('round-trips every parsed entry, and a list compiled from it answers the same', () => {
    const entries = ['10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::/0', 'ffff::1/128', '255.255.255.255'];
    const networks = entries.map(cidr);
    const decoded = decodeNetworks(encodeNetworks(networks));
    expect(decoded).toEqual(
      networks.map(({ family, prefixLength, network }) => ({ family, prefixLength, network })),
    );
    expect(compileAllowlist(decoded ?? []).matchText('10.1.1.1')).toBe('10.0.0.0/8');
    expect(compileAllowlist(decoded ?? []).matchText('ffff::1')).toBe('ffff::1/128');
  });

  it('refuses a malformed encoding rather than guessing', () => {
    expect(decodeNetworks(new Uint8Array(17))).toBeNull();
    const bad = encodeNetworks([cidr('10.0.0.0/8')]);
    bad[1] = 33;
    expect(decodeNetworks(bad)).toBeNull();
    bad[0] = 5;
    expect(decodeNetworks(bad)).toBeNull();
  });
});
