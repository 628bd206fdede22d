import { type CloudEventHandler, LocalBus } from '../bus/local-bus.js';
import { OutboxRelay, type Publisher } from '../bus/outbox.js';
import { relayTopics } from '../bus/publishers.js';
import { type Config, type Env, loadConfig } from '../config/config.js';
import type { KeyRing } from '../crypto/seal.js';
import { type Db, type DbHandle, openDatabase } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createMetrics, type Metrics } from '../log/metrics.js';
import { createOutboundFetch, type OutboundFetch } from '../outbound/client.js';
import { localSecrets } from '../secrets/local-secrets.js';
import { keyBytes, type SecretStore } from '../secrets/secrets.js';
import { type Clock, systemClock } from '../time/clock.js';

/**
 * The infrastructure one instance runs on: config, logs, database, secrets, bus. Built once per
 * process (in the local runtime, one for every unit), lazily on the first request, so a deployed
 * function pays only for what its unit touches. Units build their services on top of it.
 */
export interface Platform {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  database: DbHandle;
  db: Db;
  secrets: SecretStore;
  publisher: Publisher;
  relay: OutboxRelay;
  /** The in-process bus in embedded mode; null on Pub/Sub. */
  localBus: LocalBus | null;
  /** The one client for fetches made on a user's behalf (shared/outbound). */
  outbound: OutboundFetch;
  mailKeys(): Promise<KeyRing>;
  close(): Promise<void>;
}

export interface PlatformOptions {
  env?: Env;
  clock?: Clock;
  logger?: Logger;
  secrets?: SecretStore;
  database?: DbHandle;
  publisher?: Publisher;
  /** Apply pending migrations at start (default: in embedded mode, or when MIGRATE_ON_START=true). */
  migrate?: boolean;
}

export async function createPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics(logger);
  const database = options.database ?? (await openDatabase(config.database));
  const shouldMigrate =
    options.migrate ?? (env.MIGRATE_ON_START ? env.MIGRATE_ON_START === 'true' : config.bus === 'local');
  if (shouldMigrate) await migrate(database, logger);

  let secrets = options.secrets;
  if (!secrets) {
    if (config.secretsSource === 'local') {
      secrets = localSecrets(
        config.database.kind === 'pglite' && config.database.dataDir === null ? null : config.dataDir,
        env,
      );
    } else {
      const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
      const { secretManagerSecrets } = await import('../secrets/secret-manager.js');
      secrets = secretManagerSecrets(new SecretManagerServiceClient(), config.googleCloudProject ?? '');
    }
  }

  let localBus: LocalBus | null = null;
  let publisher = options.publisher;
  if (!publisher) {
    if (config.bus === 'local') {
      // The registry lookup is for the in-process bus only; deployed functions never load it.
      const { getFunction } = await import('@google-cloud/functions-framework/testing');
      localBus = new LocalBus((unit) => getFunction(unit) as CloudEventHandler | undefined, logger);
      publisher = localBus;
    } else {
      const { PubSub } = await import('@google-cloud/pubsub');
      const { PubSubPublisher } = await import('../bus/pubsub-publisher.js');
      publisher = new PubSubPublisher(new PubSub({ projectId: config.googleCloudProject }));
    }
  }
  // One process serves every unit locally; deployed, a unit publishes only to its own topics.
  const topics = config.bus === 'local' ? null : relayTopics(config.unit);
  if (config.bus !== 'local' && topics === null) {
    logger.warn('unit unknown (FUNCTION_TARGET); the outbox relay drains every topic', { unit: config.unit });
  }
  const relay = new OutboxRelay(database.db, publisher, logger, metrics, topics);
  const store = secrets;
  let mailRing: Promise<KeyRing> | undefined;

  return {
    config,
    logger,
    metrics,
    clock: options.clock ?? systemClock,
    database,
    db: database.db,
    secrets: store,
    publisher,
    relay,
    localBus,
    outbound: createOutboundFetch({ ...config.outbound, logger, metrics }),
    mailKeys() {
      mailRing ??= keyBytes(store, 'mail-seal-key').then((key) => ({
        currentKeyId: 'm1',
        keys: new Map([['m1', key]]),
      }));
      return mailRing;
    },
    async close() {
      await relay.drain().catch(() => undefined);
      await localBus?.idle();
      await database.close();
    },
  };
}

let active: Promise<Platform> | undefined;

/** The process's platform, created from the environment on first use. */
export function platform(): Promise<Platform> {
  active ??= createPlatform(loadConfig(process.env));
  return active;
}

/** Installs a platform built elsewhere (the local runtime, tests). */
export function usePlatform(next: Promise<Platform>): void {
  active = next;
}

/**
 * Memoizes a unit's services per platform, so each instance builds them once. Asked on every
 * request: while the process's platform stays the same, it answers with the promise it already
 * has (no async hop, no lookup).
 */
export function perPlatform<T>(build: (p: Platform) => Promise<T> | T): () => Promise<T> {
  const cache = new WeakMap<Platform, Promise<T>>();
  let lastPlatform: Promise<Platform> | undefined;
  let lastValue: Promise<T> | undefined;
  return () => {
    const current = platform();
    if (current === lastPlatform && lastValue) return lastValue;
    const value = current.then((p) => {
      let built = cache.get(p);
      if (!built) {
        built = Promise.resolve(build(p));
        cache.set(p, built);
      }
      return built;
    });
    lastPlatform = current;
    lastValue = value;
    return value;
  };
}
