import { loadConfig } from '../shared/config/config.js';
import { openDatabase } from '../shared/db/connect.js';
import { createLogger } from '../shared/log/logger.js';

/**
 * `npm run db:grant`: after migrations, lets each function's IAM database user (DB_APP_USERS,
 * comma separated; `terraform output function_db_users`) read and write the application tables.
 * Cloud SQL IAM users start with no privileges, and tables belong to the migrator that created them.
 */
const IAM_USER = /^[a-z][a-z0-9-]{4,29}@[a-z][a-z0-9-]{4,29}\.iam$/;

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const users = (process.env.DB_APP_USERS ?? '')
  .split(',')
  .map((u) => u.trim())
  .filter(Boolean);
const invalid = users.filter((u) => !IAM_USER.test(u));
if (users.length === 0 || invalid.length > 0) {
  throw new Error(
    `DB_APP_USERS must list IAM service account users (name@project.iam); invalid: ${invalid.join(', ')}`,
  );
}
const handle = await openDatabase(config.database);
try {
  await handle.withSession(async (session) => {
    for (const user of users) {
      // The name is validated above, so quoting it as an identifier is safe.
      const role = `"${user}"`;
      await session.run(
        [
          `grant usage on schema public to ${role};`,
          `grant select, insert, update, delete on all tables in schema public to ${role};`,
          `grant usage, select on all sequences in schema public to ${role};`,
        ].join('\n'),
      );
    }
  });
  logger.info('database grants applied', { users });
} finally {
  await handle.close();
}
