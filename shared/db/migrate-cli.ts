import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from './connect.js';
import { migrate } from './migrate.js';

// `npm run migrate`: applies pending migrations to the configured database (Cloud Build runs it before deploy).
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const handle = await openDatabase(config.database);
try {
  const applied = await migrate(handle, logger);
  logger.info('migrations up to date', { applied });
} finally {
  await handle.close();
}
