import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'maxmind';
import { describe, expect, it } from 'vitest';
import { MaxMindLocator } from './geoip.js';
import { isLocatable, toLocation } from './location.js';

/**
 * The locator walks the search tree itself and leaves only decoding to mmdb-lib; every answer
 * must be the one mmdb-lib's own Reader.get gives (read the same way), address by address.
 */
const bundled = new MaxMindLocator();
const rawReader = (file: string) => new Reader<Response>(readFileSync(file));
const dir = mkdtempSync(join(tmpdir(), 'sf-tree-'));

function randomPublicIpv4(count: number): string[] {
  const ips: string[] = [];
  while (ips.length < count) {
    const ip = [...randomBytes(4)].join('.');
    if (isLocatable(ip)) ips.push(ip);
  }
  return ips;
}

/** Random addresses in the blocks the registries hand out (2001::/16, 2400::/12, 2600::/12, 2a00::/12, 2c00::/12). */
function randomIpv6(count: number): string[] {
  const tops = [0x2001, 0x2400, 0x2600, 0x2a00, 0x2c00];
  return Array.from({ length: count }, (_, i) => {
    const b = randomBytes(16);
    const top = tops[i % tops.length]!;
    const first = top === 0x2001 ? top : top | (b[0]! & 0x0f);
    const parts = [first, ...Array.from({ length: 7 }, (_, k) => b.readUInt16BE(2 + k * 2))];
    return parts.map((p) => p.toString(16)).join(':');
  });
}

async function expectSameAnswers(locator: MaxMindLocator, reader: Reader<Response>, ips: string[]) {
  let located = 0;
  for (const ip of ips) {
    const expected = isLocatable(ip) ? toLocation(reader.get(ip)) : null;
    const answer = await locator.locate(ip);
    expect(answer, ip).toEqual(expected);
    if (answer) located++;
  }
  return located;
}

describe('the bundled files: the locator answers as mmdb-lib does', () => {
  it('on random public IPv4 addresses', async () => {
    const ips = randomPublicIpv4(5000);
    const located = await expectSameAnswers(bundled, rawReader(bundled.files.v4), ips);
    expect(located).toBeGreaterThan(4500);
  });

  it('on random IPv6 addresses in allocated blocks', async () => {
    const located = await expectSameAnswers(bundled, rawReader(bundled.files.v6), randomIpv6(5000));
    expect(located).toBeGreaterThan(100);
  });

  it('an IPv4-mapped IPv6 address is answered as its IPv4 address', async () => {
    const v4 = rawReader(bundled.files.v4);
    for (const ip of randomPublicIpv4(500)) {
      expect(await bundled.locate(`::ffff:${ip}`), ip).toEqual(toLocation(v4.get(ip)));
    }
  });

  it('private, reserved and special addresses have no location, whatever the file says', async () => {
    for (const ip of [
      '10.1.2.3',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.1.1',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
      '0.0.0.0',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      'ff02::1',
      '2001:db8::1',
      '64:ff9b::808:808',
      'not an address',
      '',
    ]) {
      expect(await bundled.locate(ip), ip).toBeNull();
    }
  });

  it('IPv4 addresses asked of an IPv6 file start where mmdb-lib starts them (::/96)', async () => {
    const v6Only = new MaxMindLocator(bundled.files.v6);
    await expectSameAnswers(v6Only, rawReader(bundled.files.v6), randomPublicIpv4(2000));
  });

  it('an IPv6 address asked of an IPv4-only file has no location (mmdb-lib would read its first 32 bits as IPv4)', async () => {
    const v4Only = new MaxMindLocator(bundled.files.v4);
    expect(rawReader(bundled.files.v4).get('2001:4860:4860::8888')).not.toBeNull();
    expect(await v4Only.locate('2001:4860:4860::8888')).toBeNull();
  });
});

/**
 * A small MaxMind DB written here, so each record size (24, 28, 32 bits) and a tree that holds
 * IPv4 under ::/96 are walked too: the bundled files all use 28.
 */
function uint(type: 5 | 6, value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([(type << 5) | bytes.length, ...bytes]);
}
function text(value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([(2 << 5) | bytes.length]), bytes]);
}
function double(value: number): Buffer {
  const bytes = Buffer.alloc(9);
  bytes[0] = (3 << 5) | 8;
  bytes.writeDoubleBE(value, 1);
  return bytes;
}
function map(entries: Array<[string, Buffer]>): Buffer {
  return Buffer.concat([
    Buffer.from([(7 << 5) | entries.length]),
    ...entries.flatMap(([k, v]) => [text(k), v]),
  ]);
}

interface Trie {
  kids: [Trie | number | null, Trie | number | null];
}
const bitsOf = (cidr: string): number[] => {
  const [address, length] = ipaddr.parseCIDR(cidr);
  const bytes = address.toByteArray();
  return Array.from({ length }, (_, i) => ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1);
};

function writeDatabase(
  recordSize: 24 | 28 | 32,
  ipVersion: 4 | 6,
  networks: Array<[cidr: string, record: Record<string, Buffer>]>,
): string {
  const root: Trie = { kids: [null, null] };
  const data: Buffer[] = [];
  networks.forEach(([cidr, record], index) => {
    data.push(map(Object.entries(record)));
    let bits = bitsOf(cidr);
    if (ipVersion === 6 && cidr.includes('.')) bits = [...Array(96).fill(0), ...bits];
    let node = root;
    bits.forEach((bit, depth) => {
      if (depth === bits.length - 1) node.kids[bit as 0 | 1] = index;
      else {
        node.kids[bit as 0 | 1] ??= { kids: [null, null] };
        node = node.kids[bit as 0 | 1] as Trie;
      }
    });
  });
  const nodes: Trie[] = [];
  const number = new Map<Trie, number>();
  const queue = [root];
  while (queue.length) {
    const node = queue.shift()!;
    number.set(node, nodes.push(node) - 1);
    for (const kid of node.kids) if (kid && typeof kid === 'object') queue.push(kid);
  }
  const offsets: number[] = [];
  let at = 0;
  for (const record of data) {
    offsets.push(at);
    at += record.length;
  }
  const value = (kid: Trie | number | null) =>
    kid === null
      ? nodes.length
      : typeof kid === 'number'
        ? nodes.length + 16 + offsets[kid]!
        : number.get(kid)!;
  const nodeBytes = recordSize / 4;
  const tree = Buffer.alloc(nodes.length * nodeBytes);
  nodes.forEach((node, n) => {
    const [left, right] = node.kids.map(value) as [number, number];
    const o = n * nodeBytes;
    if (recordSize === 24) {
      tree.writeUIntBE(left, o, 3);
      tree.writeUIntBE(right, o + 3, 3);
    } else if (recordSize === 28) {
      tree.writeUIntBE(left & 0xffffff, o, 3);
      tree[o + 3] = ((left >>> 24) << 4) | (right >>> 24);
      tree.writeUIntBE(right & 0xffffff, o + 4, 3);
    } else {
      tree.writeUInt32BE(left, o);
      tree.writeUInt32BE(right, o + 4);
    }
  });
  const metadata = map([
    ['node_count', uint(6, nodes.length)],
    ['record_size', uint(5, recordSize)],
    ['ip_version', uint(5, ipVersion)],
    ['binary_format_major_version', uint(5, 2)],
    ['binary_format_minor_version', uint(5, 0)],
    ['database_type', text('SessionForge-Test')],
  ]);
  const file = join(dir, `test-${recordSize}-v${ipVersion}-${randomBytes(4).toString('hex')}.mmdb`);
  writeFileSync(
    file,
    Buffer.concat([
      tree,
      Buffer.alloc(16),
      ...data,
      Buffer.from('ABCDEF4D61784D696E642E636F6D', 'hex'),
      metadata,
    ]),
  );
  return file;
}

const place = (country: string, city: string, latitude: number, longitude: number) => ({
  country_code: text(country),
  city: text(city),
  latitude: double(latitude),
  longitude: double(longitude),
});
const NETWORKS: Array<[string, Record<string, Buffer>]> = [
  ['8.8.8.0/24', place('US', 'Mountain View', 37.4, -122.1)],
  ['85.214.0.0/16', place('DE', 'Berlin', 52.5, 13.4)],
  ['210.130.0.0/17', place('JP', 'Tokyo', 35.7, 139.7)],
  ['160.0.0.0/3', place('FR', 'Paris', 48.9, 2.35)],
  ['60.0.0.0/8', { country_code: text('XYZ'), latitude: double(1), longitude: double(2) }],
];
const NETWORKS_V6: Array<[string, Record<string, Buffer>]> = [
  ...NETWORKS,
  ['2001:4860::/32', place('US', 'Mountain View', 37.4, -122.1)],
  ['2a01:4f8::/29', place('DE', 'Falkenstein', 50.5, 12.4)],
  ['2400::/12', place('AU', 'Sydney', -33.9, 151.2)],
];
const PROBES = [
  '8.8.8.8',
  '8.8.9.8',
  '85.214.132.117',
  '85.215.0.1',
  '210.130.1.1',
  '210.130.200.1',
  '200.1.2.3',
  '60.1.2.3',
  '2001:4860:4860::8888',
  '2001:4861::1',
  '2a01:4f8:1c1c::1',
  '2a01:500::1',
  '2401:db00::1',
  '2600::1',
  ...randomPublicIpv4(500),
  ...randomIpv6(500),
];

describe('a database of each record size: the locator answers as mmdb-lib does', () => {
  for (const recordSize of [24, 28, 32] as const) {
    it(`${recordSize}-bit records, an IPv6 tree with IPv4 under ::/96`, async () => {
      const file = writeDatabase(recordSize, 6, NETWORKS_V6);
      const located = await expectSameAnswers(new MaxMindLocator(file), rawReader(file), PROBES);
      expect(located).toBeGreaterThan(14);
    });

    it(`${recordSize}-bit records, an IPv4 tree`, async () => {
      const file = writeDatabase(recordSize, 4, NETWORKS);
      const ipv4 = PROBES.filter((ip) => !ip.includes(':'));
      const located = await expectSameAnswers(new MaxMindLocator(file), rawReader(file), ipv4);
      expect(located).toBeGreaterThan(10);
    });
  }
});

/** A database written here, its metadata then replaced by the one given (as a hostile file could). */
function withMetadata(recordSize: 24 | 28 | 32, entries: Array<[string, Buffer]>): string {
  const whole = readFileSync(writeDatabase(recordSize, 4, NETWORKS));
  const marker = Buffer.from('ABCDEF4D61784D696E642E636F6D', 'hex');
  const start = whole.lastIndexOf(marker);
  const file = join(dir, `rewritten-${randomBytes(4).toString('hex')}.mmdb`);
  writeFileSync(file, Buffer.concat([whole.subarray(0, start + marker.length), map(entries)]));
  return file;
}

describe('a malformed or hostile file', () => {
  it('whose metadata claims a bigger search tree than the file holds is refused as it opens', async () => {
    const file = withMetadata(28, [
      ['node_count', uint(6, 1_000_000)],
      ['record_size', uint(5, 28)],
      ['ip_version', uint(5, 4)],
    ]);
    await expect(new MaxMindLocator(file).locate('8.8.8.8')).rejects.toThrow(/past the end/);
  });

  it('with an unsupported IP version is refused as it opens', async () => {
    const file = withMetadata(24, [
      ['node_count', uint(6, 1)],
      ['record_size', uint(5, 24)],
      ['ip_version', uint(5, 5)],
    ]);
    await expect(new MaxMindLocator(file).locate('8.8.8.8')).rejects.toThrow(/IP version/);
  });

  it('an empty file is refused as it opens', async () => {
    const file = join(dir, 'empty.mmdb');
    writeFileSync(file, Buffer.alloc(0));
    await expect(new MaxMindLocator(file).locate('8.8.8.8')).rejects.toThrow();
  });
});
