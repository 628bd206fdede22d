import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGcs, startFakeGcs } from '../../tests/helpers/fake-gcs.js';
import { GcsBlobStore } from './gcs.js';
import { LocalBlobStore } from './local.js';
import type { BlobStore } from './store.js';

let gcs: FakeGcs;
beforeAll(async () => {
  gcs = await startFakeGcs('checkpoints-test');
});
afterAll(async () => {
  await gcs?.close();
});

const stores: Array<[string, () => BlobStore]> = [
  ['local filesystem', () => new LocalBlobStore(mkdtempSync(join(tmpdir(), 'sf-blob-')), 'checkpoints-test')],
  [
    'Cloud Storage (JSON API)',
    () => {
      gcs.objects.clear();
      const storage = new Storage({ apiEndpoint: gcs.url, projectId: 'test-project' });
      return new GcsBlobStore(storage.bucket('checkpoints-test'));
    },
  ],
];

describe.each(stores)('BlobStore contract: %s', (_name, open) => {
  it('reads back what was written, and null for a missing object', async () => {
    const store = open();
    expect(
      await store.put('chains/org/a/0000000000000001.json', '{"seq":1}', { contentType: 'application/json' }),
    ).toEqual({ created: true });
    expect((await store.get('chains/org/a/0000000000000001.json'))?.toString('utf8')).toBe('{"seq":1}');
    const binary = Buffer.from([0, 255, 1, 254]);
    await store.put('bin/x', binary);
    expect(await store.get('bin/x')).toEqual(binary);
    expect(await store.get('chains/org/a/missing.json')).toBeNull();
  });

  it('lists keys under a prefix in order, across pages, without a neighbouring prefix', async () => {
    const store = open();
    for (const seq of [3, 1, 2, 10])
      await store.put(`chains/org/a/${String(seq).padStart(4, '0')}.json`, `${seq}`);
    await store.put('chains/org/ab/0001.json', 'other org');
    await store.put('chains/user/a/0001.json', 'a user');
    expect(await store.list('chains/org/a/')).toEqual([
      'chains/org/a/0001.json',
      'chains/org/a/0002.json',
      'chains/org/a/0003.json',
      'chains/org/a/0010.json',
    ]);
    expect(await store.list('chains/none/')).toEqual([]);
  });

  it('with ifAbsent keeps the first object and reports that nothing was created', async () => {
    const store = open();
    expect(await store.put('once.json', 'first', { ifAbsent: true })).toEqual({ created: true });
    expect(await store.put('once.json', 'second', { ifAbsent: true })).toEqual({ created: false });
    expect((await store.get('once.json'))?.toString()).toBe('first');
  });

  it('refuses keys that could escape the bucket folder', async () => {
    const store = open();
    for (const key of ['../x', 'a/../../x', '/abs', 'a//b', '', 'a/./b', 'sp ace']) {
      await expect(store.put(key, 'x'), key).rejects.toThrow(/invalid blob key/);
      await expect(store.get(key), key).rejects.toThrow(/invalid blob key/);
    }
    await expect(store.list('../')).rejects.toThrow(/invalid blob key/);
  });
});

describe('GcsBlobStore on the wire', () => {
  it('uploads with a create-only precondition, downloads media and pages through listings', async () => {
    gcs.objects.clear();
    gcs.requests.length = 0;
    const store = new GcsBlobStore(
      new Storage({ apiEndpoint: gcs.url, projectId: 'p' }).bucket('checkpoints-test'),
    );
    await store.put('k/1', 'one', { ifAbsent: true });
    await store.put('k/2', 'two');
    await store.put('k/3', 'three');
    expect(gcs.objects.get('k/1')?.bytes.toString()).toBe('one');
    expect(await store.list('k/')).toEqual(['k/1', 'k/2', 'k/3']);
    expect((await store.get('k/3'))?.toString()).toBe('three');
    expect(gcs.requests).toEqual([
      'POST /upload/storage/v1/b/checkpoints-test/o',
      'POST /upload/storage/v1/b/checkpoints-test/o',
      'POST /upload/storage/v1/b/checkpoints-test/o',
      'GET /storage/v1/b/checkpoints-test/o',
      'GET /storage/v1/b/checkpoints-test/o',
      'GET /storage/v1/b/checkpoints-test/o/k%2F3',
    ]);
  });
});
