import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { insertOrg, insertSsoConfig, openTestDatabase, testEngine } from '../../tests/helpers/db.js';
import '../accounts/tables.js';
import { loadMigrations, migrate } from '../db/migrate.js';
import './tables.js';

describe(`migration 0015: SSO identities keyed by issuer (${testEngine})`, () => {
  it('keeps links of password-less accounts under the org issuer, and drops email-matched and orphan links', async () => {
    const handle = await openTestDatabase(
      testEngine,
      loadMigrations().filter((m) => m.version < '0015'),
    );
    try {
      const db = handle.db;
      const now = new Date('2026-01-01T00:00:00Z');
      const user = async (label: string, password: boolean) => {
        const row = await db
          .insertInto('users')
          .values({
            email: `${label}@acme.test`,
            email_normalized: `${label}@acme.test`,
            name: label,
            email_verified_at: now,
            disabled_at: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (password) {
          await db
            .insertInto('password_credentials')
            .values({ user_id: row.id, hash: 'h', updated_at: now })
            .execute();
        }
        return row.id;
      };
      const created = await user('jit', false);
      const emailMatched = await user('owner', true);
      const withSso = await insertOrg(db, { slug: `sso-${randomUUID()}`, now });
      const withoutSso = await insertOrg(db, { slug: `plain-${randomUUID()}`, now });
      await insertSsoConfig(db, { orgId: withSso, issuerUrl: 'https://login.acme.test', now });
      // Rows as they were before 0015, without an issuer.
      const link = (orgId: string, subject: string, userId: string) =>
        sql`insert into sso_identities (org_id, subject, user_id, created_at, last_login_at)
            values (${orgId}, ${subject}, ${userId}, ${now}, ${now})`.execute(db);
      await link(withSso, 'sub-jit', created);
      await link(withSso, 'sub-owner', emailMatched);
      await link(withoutSso, 'sub-orphan', created);

      expect(await migrate(handle)).toContain('0015_sso_identity_issuer.sql');
      const rows = await db
        .selectFrom('sso_identities')
        .select(['org_id', 'issuer', 'subject', 'user_id'])
        .execute();
      expect(rows).toEqual([
        { org_id: withSso, issuer: 'https://login.acme.test', subject: 'sub-jit', user_id: created },
      ]);
      // The new key: the same subject at another issuer is another identity.
      await db
        .insertInto('sso_identities')
        .values({
          org_id: withSso,
          issuer: 'https://other.acme.test',
          subject: 'sub-jit',
          user_id: emailMatched,
          created_at: now,
          last_login_at: now,
        })
        .execute();
      expect(await db.selectFrom('sso_identities').select('subject').execute()).toHaveLength(2);
    } finally {
      await handle.close();
    }
  });
});
