import { ConfigError, loadConfig } from '../config/config.js';
import { ensureConsoleBuilt } from './console.js';
import { portInUse } from './gateway.js';
import { startLocalRuntime } from './local.js';

// `npm start`: every unit on one port with embedded defaults (PGlite, in-process bus, files under DATA_DIR).
try {
  const config = loadConfig(process.env);
  const host = process.env.HOST ?? '127.0.0.1';
  if (await portInUse(config.port, host)) {
    process.stderr.write(
      `Port ${config.port} on ${host} is already in use (another npm start?): stop it, or start with PORT=<another port>.\n`,
    );
    process.exit(1);
  }
  // A fresh checkout has no web/dist: build the console first, so `npm start` is all a new user needs.
  await ensureConsoleBuilt((message) => process.stdout.write(`${message}\n`));
  const runtime = await startLocalRuntime(config, { host });
  runtime.platform.logger.info('SessionForge security services are up', {
    url: runtime.url,
    units: runtime.units,
    dataDir: config.dataDir,
    database: config.database.kind,
  });
  const shutdown = async (signal: string) => {
    runtime.platform.logger.info('shutting down', { signal });
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
