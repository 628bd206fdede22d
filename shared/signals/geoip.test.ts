import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MaxMindLocator } from './geoip.js';

describe('the bundled DB-IP Lite City database', () => {
  const locator = new MaxMindLocator();

  it('places real public addresses of both families', async () => {
    expect(await locator.locate('8.8.8.8')).toMatchObject({ country: 'US', city: 'Mountain View' });
    expect(await locator.locate('85.214.132.117')).toMatchObject({ country: 'DE' });
    expect(await locator.locate('210.130.1.1')).toMatchObject({ country: 'JP' });
    expect(await locator.locate('2001:4860:4860::8888')).toMatchObject({
      country: expect.stringMatching(/^[A-Z]{2}$/),
    });
    expect(await locator.locate('::ffff:8.8.8.8')).toMatchObject({ country: 'US' });
  });

  it('private and special addresses are never looked up', async () => {
    for (const ip of ['10.0.0.1', '100.64.0.1', '127.0.0.1', '::1', 'fd00::1']) {
      expect(await locator.locate(ip), ip).toBeNull();
    }
  });

  it('GEOIP_DATABASE replaces the bundled files with one file for both families', async () => {
    const custom = new MaxMindLocator(locator.files.v4);
    expect(custom.files).toEqual({ v4: locator.files.v4, v6: locator.files.v4 });
    expect(await custom.locate('8.8.8.8')).toMatchObject({ country: 'US' });
  });

  it('a database file that cannot be read fails the lookup (the sign-in watch turns it into null)', async () => {
    await expect(new MaxMindLocator('/nonexistent/geo.mmdb').locate('8.8.8.8')).rejects.toThrow();
  });

  it('a gzipped file is refused with words that say so', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sf-geo-')), 'geo.mmdb.gz');
    writeFileSync(file, gzipSync(Buffer.from('not a database')));
    await expect(new MaxMindLocator(file).locate('8.8.8.8')).rejects.toThrow(/gzip/);
  });

  it('warm() starts the IPv4 file loading; a failed warm-up is retried by the first lookup', async () => {
    const warmed = new MaxMindLocator().warm();
    expect(await warmed.locate('8.8.8.8')).toMatchObject({ country: 'US' });
    const broken = new MaxMindLocator('/nonexistent/geo.mmdb').warm();
    await expect(broken.locate('8.8.8.8')).rejects.toThrow();
    await expect(broken.locate('8.8.4.4')).rejects.toThrow();
  });

  it('addresses that share a record get the same answer, read from the record once', async () => {
    const fresh = new MaxMindLocator();
    const a = await fresh.locate('8.8.8.8');
    expect(await fresh.locate('8.8.8.8')).toBe(a);
    expect(await fresh.locate('8.8.8.9')).toBe(a);
  });

  it('keeps answering the same after many more addresses than it remembers', async () => {
    const fresh = new MaxMindLocator();
    const first = await fresh.locate('8.8.8.8');
    for (let i = 0; i < 25_000; i++) await fresh.locate(`8.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(await fresh.locate('8.8.8.8')).toEqual(first);
    expect(await fresh.locate('10.1.2.3')).toBeNull();
  });
});
