import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../tests/helpers/db.js';
import '../accounts/tables.js';
import { sha256 } from '../crypto/tokens.js';
import type { DbHandle } from '../db/connect.js';
import { FakeClock, MINUTE_MS } from '../time/clock.js';
import { PasskeyStore } from './store.js';

let handle: DbHandle;
let store: PasskeyStore;
const clock = new FakeClock('2026-05-04T09:00:00Z');
let counter = 0;

async function insertUser(): Promise<string> {
  const email = `store${++counter}@example.com`;
  const row = await handle.db
    .insertInto('users')
    .values({ email, email_normalized: email, name: 'S', email_verified_at: clock.now(), disabled_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function insertPasskey(userId: string, credentialId = `cred-${++counter}`) {
  return handle.db.transaction().execute((tx) =>
    store.insert(tx, {
      userId,
      credentialId,
      publicKey: new Uint8Array([1, 2, 3]),
      signCount: 0,
      transports: ['internal'],
      backupEligible: true,
      backedUp: false,
      aaguid: '00000000-0000-0000-0000-000000000000',
      name: 'Key',
      createdAt: clock.now(),
    }),
  );
}

beforeAll(async () => {
  handle = await openTestDatabase();
  store = new PasskeyStore(handle.db);
});
afterAll(async () => {
  await handle?.close();
});

describe('PasskeyStore', () => {
  it('keeps a credential id to one registration across all users', async () => {
    const credentialId = `shared-${++counter}`;
    expect(await insertPasskey(await insertUser(), credentialId)).not.toBeNull();
    expect(await insertPasskey(await insertUser(), credentialId)).toBeNull();
  });

  it('uses a challenge once, even when two uses race', async () => {
    const challengeHash = sha256(`challenge-${++counter}`);
    const id = await store.insertChallenge({
      purpose: 'login',
      challengeHash,
      sessionId: null,
      userId: null,
      expiresAt: new Date(clock.now().getTime() + 5 * MINUTE_MS),
      now: clock.now(),
    });
    const uses = await Promise.all([
      store.useChallenge({ purpose: 'login', sessionId: null, id }, clock.now()),
      store.useChallenge({ purpose: 'login', sessionId: null, id }, clock.now()),
    ]);
    expect(uses.filter((u) => u !== null)).toHaveLength(1);
    expect(uses.find((u) => u !== null)?.equals(challengeHash)).toBe(true);
  });

  it('moves the counter only from the value the verifier read', async () => {
    const passkey = await insertPasskey(await insertUser());
    if (!passkey) throw new Error('not inserted');
    const use = { storedCount: 0, newCount: 4, backedUp: true, now: clock.now() };
    expect(await Promise.all([store.recordUse(passkey.id, use), store.recordUse(passkey.id, use)])).toEqual(
      expect.arrayContaining([true, false]),
    );
    const [after] = await store.listForUser(passkey.userId);
    expect(after).toMatchObject({ signCount: 4, backedUp: true, lastUsedAt: clock.now() });
  });

  it('deleteAllForUser removes that user’s passkeys only', async () => {
    const leaving = await insertUser();
    const staying = await insertUser();
    await insertPasskey(leaving);
    await insertPasskey(leaving);
    await insertPasskey(staying);
    const deleted = await handle.db.transaction().execute((tx) => store.deleteAllForUser(tx, leaving));
    expect(deleted).toBe(2);
    expect(await store.listForUser(leaving)).toEqual([]);
    expect(await store.listForUser(staying)).toHaveLength(1);
  });
});
