import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import pg from 'pg';
import { percentile } from './report.js';

/**
 * The floor the hot-path benches compare against: a bare `node:http` server with its own pg.Pool
 * (same database, schema and pool size as the product) that does one indexed SELECT per request
 * and answers a small JSON body. No framework, no logging, no policy checks beyond "row found".
 */
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
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/**
 * autocannon against each target in turn, `rounds` times (bare, ours, ours, bare, ... so neither
 * always goes first), `connections` connections for `seconds` each; the load generator runs in a
 * worker thread so the servers' event loop is theirs alone. Every answer must be 2xx.
 */
export async function sideBySide(
  bare: LoadTarget,
  ours: LoadTarget,
  options: { rounds: number; seconds: number; connections: number },
): Promise<SideBySide> {
  const run = async (target: LoadTarget) => {
    const result = await autocannon({
      url: target.url,
      method: target.method ?? 'GET',
      headers: target.headers ?? {},
      ...(target.body ? { body: target.body } : {}),
      connections: options.connections,
      duration: options.seconds,
      workers: 1,
    });
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${target.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return { rps: result.requests.average, p50: result.latency.p50 };
  };
  // Warm both (JIT, pool connections) before anything counts.
  await autocannon({ url: bare.url, connections: options.connections, duration: 1, ...warm(bare) });
  await autocannon({ url: ours.url, connections: options.connections, duration: 1, ...warm(ours) });
  const out = {
    bare: [] as number[],
    ours: [] as number[],
    bareP50: [] as number[],
    oursP50: [] as number[],
  };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const);
    for (const which of order) {
      const measured = await run(which === 'bare' ? bare : ours);
      out[which].push(measured.rps);
      out[which === 'bare' ? 'bareP50' : 'oursP50'].push(measured.p50);
    }
  }
  const ratios = out.ours.map((o, i) => o / (out.bare[i] ?? Number.NaN));
  return {
    bare: out.bare,
    ours: out.ours,
    ratios,
    medianBare: median(out.bare),
    medianOurs: median(out.ours),
    medianRatio: median(ratios),
    bareP50Ms: median(out.bareP50),
    oursP50Ms: median(out.oursP50),
  };
}

function warm(target: LoadTarget) {
  return {
    method: target.method ?? 'GET',
    headers: target.headers ?? {},
    ...(target.body ? { body: target.body } : {}),
  } as const;
}
