import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { batchedSink, createLogger } from '../../shared/log/logger.js';
import { percentile } from './report.js';

/**
 * The floor the hot-path benches compare against: a bare `node:http` server with its own pg.Pool
 * (same database, schema and pool size as the product) that does one indexed SELECT per request
 * and answers a small JSON body. No framework, no logging, no policy checks beyond "row found".
 */
/**
 * The runtime logs as deployed: INFO, one access line per request, batched into a pipe the way
 * stdout is a pipe to the logging agent on Cloud Run (here a `cat` into access.log, so the
 * bench's own output stays readable). The bare server logs nothing.
 */
export function accessLogger(dir: string) {
  const reader = spawn('sh', ['-c', `cat > ${join(dir, 'access.log')}`], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  let open = true;
  return {
    logger: createLogger(
      'info',
      batchedSink((chunk) => {
        if (open) reader.stdin.write(chunk);
      }),
    ),
    // After the last batch has gone out (batches leave within 25 ms).
    close: () =>
      setTimeout(() => {
        open = false;
        reader.stdin.end();
      }, 100),
  };
}

export interface BareServer {
  url: string;
  close(): Promise<void>;
}

export async function startBareServer(
  options: { connectionString: string; schema: string; poolMax: number },
  handle: (req: IncomingMessage, pool: pg.Pool) => Promise<{ status: number; body: unknown }>,
): Promise<BareServer> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    options: `-c search_path=${options.schema}`,
    max: options.poolMax,
  });
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const server: Server = createServer((req, res) => {
    handle(req, pool).then(
      ({ status, body }) => answer(res, status, body),
      () => answer(res, 500, { error: 'internal' }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

/** SHA-256 of the bearer token, as both products store it. */
export function bearerHash(req: IncomingMessage): Buffer | null {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  return match?.[1] ? createHash('sha256').update(match[1]).digest() : null;
}

export interface LoadTarget {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface SideBySide {
  /** req/s of each round, in run order. */
  bare: number[];
  ours: number[];
  /** ours / bare per round. */
  ratios: number[];
  medianBare: number;
  medianOurs: number;
  medianRatio: number;
  oursP50Ms: number;
  bareP50Ms: number;
  /** This process's CPU time (user + system) per answered request, median over rounds: the servers' own cost, robust to neighbours. */
  bareCpuUsPerRequest: number;
  oursCpuUsPerRequest: number;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface LoadResult {
  rps: number;
  p50: number;
  total: number;
  cpuUs: number;
  userUs: number;
}

/**
 * One autocannon run from a child process (so the load generator's CPU is not this process's),
 * with this process's CPU time over the run. Every answer must be 2xx.
 */
export async function load(target: LoadTarget, seconds: number, connections: number): Promise<LoadResult> {
  const args = [autocannonBin, '-j', '-c', String(connections), '-d', String(seconds)];
  args.push('-m', target.method ?? 'GET');
  for (const [name, value] of Object.entries(target.headers ?? {})) args.push('-H', `${name}=${value}`);
  if (target.body) args.push('-b', target.body);
  args.push(target.url);
  const cpuBefore = process.cpuUsage();
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 16 << 20 }, (error, out) =>
      error ? reject(error) : resolve(out),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const result = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number };
    non2xx: number;
    errors: number;
  };
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${target.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    total: result.requests.total,
    cpuUs: cpu.user + cpu.system,
    userUs: cpu.user,
  };
}

/**
 * autocannon against each target in turn, `rounds` times (bare first on even rounds, ours first
 * on odd ones, so neither always goes first), `connections` connections for `seconds` each.
 */
export async function sideBySide(
  bare: LoadTarget,
  ours: LoadTarget,
  options: { rounds: number; seconds: number; connections: number },
): Promise<SideBySide> {
  // Warm both (JIT, pool connections) before anything counts.
  await load(bare, 1, options.connections);
  await load(ours, 1, options.connections);
  const runs = { bare: [] as LoadResult[], ours: [] as LoadResult[] };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const);
    for (const which of order)
      runs[which].push(await load(which === 'bare' ? bare : ours, options.seconds, options.connections));
  }
  const rps = (list: LoadResult[]) => list.map((r) => r.rps);
  const cpuPerRequest = (list: LoadResult[]) => median(list.map((r) => r.cpuUs / Math.max(1, r.total)));
  const ratios = runs.ours.map((o, i) => o.rps / (runs.bare[i]?.rps ?? Number.NaN));
  return {
    bare: rps(runs.bare),
    ours: rps(runs.ours),
    ratios,
    medianBare: median(rps(runs.bare)),
    medianOurs: median(rps(runs.ours)),
    medianRatio: median(ratios),
    bareP50Ms: median(runs.bare.map((r) => r.p50)),
    oursP50Ms: median(runs.ours.map((r) => r.p50)),
    bareCpuUsPerRequest: cpuPerRequest(runs.bare),
    oursCpuUsPerRequest: cpuPerRequest(runs.ours),
  };
}

/**
 * A CPU profile of this process while `target` is under load (after a 1 s warm-up), written to
 * the temp dir; returns its path. Read it with `node bench/lib/cpuprofile.mjs <file>`.
 */
export async function profiled(
  name: string,
  target: LoadTarget,
  seconds: number,
  connections: number,
): Promise<string> {
  await load(target, 1, connections);
  const inspector = new Session();
  inspector.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      inspector.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  const measured = await load(target, seconds, connections);
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  inspector.disconnect();
  const file = join(tmpdir(), `${name}-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return `${file} (${measured.total} requests, ${Math.round(measured.rps)} req/s, ${Math.round(measured.cpuUs / measured.total)} µs CPU each, ${Math.round(measured.userUs / measured.total)} of it user)`;
}

/**
 * Whether the bare floor prepares its statement (BENCH_BARE_PREPARED=1). By default it sends an
 * unnamed statement, the floor as issue 27 defines it; the product's hot lookups are named
 * statements, parsed and planned once per connection, so the prepared floor is the like-for-like one.
 */
export const BARE_PREPARED = process.env.BENCH_BARE_PREPARED === '1';

/** The bare server's query config for one lookup by hash. */
export function bareStatement(text: string, name: string, hash: Buffer): pg.QueryConfig {
  return BARE_PREPARED ? { name, text, values: [hash] } : { text, values: [hash] };
}
