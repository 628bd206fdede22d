import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import bcrypt from 'bcryptjs';
import { loadConfig } from '../shared/config/config.js';
import { createLogger } from '../shared/log/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../shared/runtime/local.js';
import { openTestDatabase } from '../tests/helpers/db.js';
import { machineLine, percentile, type Row, report, sample } from './lib/report.js';

/**
 * Issue 3 figures: (1) password login p50 against a bare bcryptjs.compare at cost 12, sampled
 * alternately in one run so machine drift hits both alike; (2) GET /api/sessions/current
 * throughput with autocannon, on PGlite and, when DATABASE_URL is set, PostgreSQL.
 */
const COST = 12;
const LOGINS = Number(process.env.BENCH_LOGINS ?? 25);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

async function boot(engine: 'pglite' | 'postgres'): Promise<LocalRuntime> {
  const database = await openTestDatabase(engine);
  const config = {
    ...loadConfig({ PORT: '0', DATA_DIR: `/tmp/sf-bench-${engine}`, TRUSTED_PROXY_HOPS: '1' }),
    passwordHashCost: COST,
  };
  return startLocalRuntime(config, {
    database,
    env: {},
    migrate: false,
    scheduler: false,
    logger: createLogger('silent'),
  });
}

async function post(url: string, body: unknown, ip: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

async function measure(engine: 'pglite' | 'postgres'): Promise<Row[]> {
  const runtime = await boot(engine);
  const email = `bench-${engine}@example.com`;
  const password = 'benchmark passphrase 2026';
  await post(`${runtime.url}/api/accounts/signup`, { email, password, name: 'Bench' }, '192.0.2.1');
  await runtime.platform.db.updateTable('users').set({ email_verified_at: new Date() }).execute();

  // The baseline: exactly the comparison login performs, without anything around it.
  const pepper = 'bench-pepper';
  const prehash = createHmac('sha256', pepper).update(password).digest('base64');
  const bareHash = await bcrypt.hash(prehash, COST);

  const loginTimes: number[] = [];
  const bcryptTimes: number[] = [];
  let ip = 0;
  for (let i = 0; i < LOGINS; i++) {
    // Each login from its own address: the per-IP limit (10 / 15 min) is not what is measured here.
    loginTimes.push(
      ...(await sample(
        async () => {
          const res = await post(
            `${runtime.url}/api/login`,
            { email, password },
            `198.18.${Math.floor(++ip / 250)}.${ip % 250}`,
          );
          if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
        },
        1,
        i === 0 ? 1 : 0,
      )),
    );
    bcryptTimes.push(...(await sample(() => bcrypt.compare(prehash, bareHash), 1, 0)));
  }
  loginTimes.sort((a, b) => a - b);
  bcryptTimes.sort((a, b) => a - b);

  const login = await post(`${runtime.url}/api/login`, { email, password }, '198.19.0.1');
  const cannon = await autocannon({
    url: `${runtime.url}/api/sessions/current`,
    connections: 10,
    duration: DURATION_SECONDS,
    headers: { authorization: `Bearer ${login.body.token}` },
  });
  await runtime.stop();

  const loginP50 = percentile(loginTimes, 50);
  const bcryptP50 = percentile(bcryptTimes, 50);
  return [
    {
      engine,
      'bcrypt.compare p50 ms': bcryptP50,
      'HTTP login p50 ms': loginP50,
      'login overhead': `${(((loginP50 - bcryptP50) / bcryptP50) * 100).toFixed(1)} %`,
      'current req/s': Math.round(cannon.requests.average),
      'current p99 ms': cannon.latency.p99,
      non2xx: cannon.non2xx,
    },
  ];
}

const rows = [...(await measure('pglite'))];
if (process.env.DATABASE_URL) rows.push(...(await measure('postgres')));
report(
  'foundation',
  'Login overhead and session validation throughput (issue 3)',
  [
    machineLine(),
    `Login: ${LOGINS} HTTP logins through the local gateway, each alternated with one bare bcryptjs.compare at cost ${COST} of the same pre-hashed password; p50 of each and the overhead of everything around bcrypt (target ≤ 10 %).`,
    `Session validation: autocannon, 10 connections, ${DURATION_SECONDS} s, GET /api/sessions/current with a Bearer token (hash + indexed lookup + state check on every request, no cache).`,
  ],
  rows,
);
