import type { Server } from 'node:http';
import type { Config } from '../config/config.js';
import { devRoutes } from './dev-routes.js';
import { createGateway, listen, loadUnits } from './gateway.js';
import { createPlatform, type Platform, type PlatformOptions, usePlatform } from './platform.js';
import { startLocalScheduler } from './scheduler.js';

export interface LocalRuntime {
  platform: Platform;
  server: Server;
  port: number;
  url: string;
  units: string[];
  stop(): Promise<void>;
}

/** Every unit in one process: the platform, the units' registrations, the gateway and the scheduler. */
export async function startLocalRuntime(
  config: Config,
  options: PlatformOptions & { host?: string; scheduler?: boolean } = {},
): Promise<LocalRuntime> {
  const pending = createPlatform(config, options);
  usePlatform(pending);
  const p = await pending;
  const units = await loadUnits(p.logger);
  const server = createGateway(p.logger, config, devRoutes(p));
  const port = await listen(server, config.port, options.host ?? '127.0.0.1');
  const stopScheduler = options.scheduler === false ? () => {} : startLocalScheduler(p);
  return {
    platform: p,
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    units,
    async stop() {
      stopScheduler();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await p.close();
    },
  };
}
