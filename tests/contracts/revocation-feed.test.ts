import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirestoreRevocationFeed } from '../../shared/sessions/firestore-revocation-feed.js';
import { PostgresRevocationFeed } from '../../shared/sessions/postgres-revocation-feed.js';
import type { RevocationFeed } from '../../shared/sessions/revocation-feed.js';
import { DAY_MS } from '../../shared/time/clock.js';
import { backendNames, type FastStateBackend, openBackend } from '../helpers/fast-state.js';

const now = new Date('2026-05-01T10:00:00Z');
const streamKey = () => randomBytes(32).toString('hex');
const entry = (key: string, reason = 'revoked', expiresInMs = DAY_MS) => ({
  streamKey: key,
  revokedAt: now,
  reason,
  expiresAt: new Date(now.getTime() + expiresInMs),
});

describe.each(backendNames)('RevocationFeed contract on %s', (name) => {
  let backend: FastStateBackend;
  let feed: RevocationFeed;
  beforeAll(async () => {
    backend = await openBackend(name);
    feed =
      backend.kind === 'firestore'
        ? new FirestoreRevocationFeed(backend.firestore)
        : new PostgresRevocationFeed(backend.db);
  });
  afterAll(() => backend?.close());

  it('finds a published revocation by its stream key and nothing for other keys', async () => {
    const key = streamKey();
    await feed.publish(entry(key, 'logout'));
    expect(await feed.lookup(key)).toEqual(entry(key, 'logout'));
    expect(await feed.lookup(streamKey())).toBeNull();
  });

  it('publishing a key again (a redelivery) keeps the first entry and does not fail', async () => {
    const key = streamKey();
    await feed.publish(entry(key, 'first'));
    await feed.publish(entry(key, 'second'));
    expect((await feed.lookup(key))?.reason).toBe('first');
  });

  it('sweeps only entries whose expiry has passed', async () => {
    const gone = streamKey();
    const kept = streamKey();
    await feed.publish(entry(gone, 'old', 1000));
    await feed.publish(entry(kept, 'new', 10 * DAY_MS));
    expect(await feed.sweep(new Date(now.getTime() + 2 * DAY_MS))).toBeGreaterThanOrEqual(1);
    expect(await feed.lookup(gone)).toBeNull();
    expect(await feed.lookup(kept)).not.toBeNull();
  });
});
