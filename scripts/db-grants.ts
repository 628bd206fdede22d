import { loadConfig } from '../shared/config/config.js';
import { openDatabase } from '../shared/db/connect.js';
import { appUserGrants } from '../shared/db/grants.js';
import { createLogger } from '../shared/log/logger.js';

/**
 * `npm run db:grant`: after migrations, lets each function's IAM database user (DB_APP_USERS,
 * comma separated; `terraform output function_db_users`) read and write the application tables.
 * Cloud SQL IAM users start with no privileges, and tables belong to the migrator that created them.
 * Audit rows stay append-only and the audit purge log read-only for them (shared/db/grants.ts).
 */
const IAM_USER = /^[a-z][a-z0-9-]{4,29}@[a-z][a-z0-9-]{4,29}\.iam$/;

const users = (process.env.DB_APP_USERS ?? '')
  .split(',')
  .map((u) => u.trim())
  .filter(Boolean);
const invalid = users.filter((u) => !IAM_USER.test(u));
// Checked before connecting, and said in one line: this runs in a build log, where a stack hides it.
if (users.length === 0) {
  process.stderr.write(
    "DB_APP_USERS is not set: list the functions' IAM database users, comma separated (terraform output function_db_users).\n",
  );
  process.exit(2);
}
if (invalid.length > 0) {
  process.stderr.write(
    `DB_APP_USERS must list IAM service account users (name@project.iam); not one: ${invalid.join(', ')}\n`,
  );
  process.exit(2);
}
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const handle = await openDatabase(config.database);
try {
  await handle.withSession(async (session) => {
    for (const user of users) {
      // The name is validated above, so quoting it as an identifier is safe.
      const role = `"${user}"`;
      await session.run(appUserGrants(role).join('\n'));
    }
  });
  logger.info('database grants applied', { users });
} finally {
  await handle.close();
}
