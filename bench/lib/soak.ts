import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { loadConfig } from '../../shared/config/config.js';
import { type DbHandle, openDatabase } from '../../shared/db/connect.js';
import { migrate } from '../../shared/db/migrate.js';
import { createLogger } from '../../shared/log/logger.js';
import { startLocalRuntime } from '../../shared/runtime/local.js';
import { Histogram } from './histogram.js';
import { markdownTable, type Row } from './report.js';

export interface SoakOptions {
  /** How long the load runs, warm-up included. */
  seconds: number;
  /** A running local runtime (npm start, TRUSTED_PROXY_HOPS=1) instead of one started in process. */
  url?: string;
  /** Concurrent clients of the non-login mix. */
  connections?: number;
  /** Seconds between report lines (and memory checkpoints). */
  intervalSeconds?: number;
  /** bcrypt cost of the in-process runtime (production's floor, 12, by default). */
  hashCost?: number;
  /** Seconds before memory is held to the 10 % bar (default: a fifth of the run). */
  warmupSeconds?: number;
  /** Logins per second instead of the bcrypt-bound pace measured at the start. */
  loginsPerSecond?: number;
  /** PGlite in memory rather than in DATA_DIR (tests); `npm start` keeps it on disk. */
  pgliteInMemory?: boolean;
  print?: (line: string) => void;
}

export interface SoakRoute {
  route: string;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface SoakCheckpoint {
  atSeconds: number;
  requestsPerSecond: number;
  errors: number;
  rssMiB: number;
  heapMiB: number;
  /** Buffers and other memory V8 tracks outside its heap (part of RSS). */
  externalMiB: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

export interface SoakReport {
  seconds: number;
  target: string;
  engine: string;
  connections: number;
  loginsPerSecond: number;
  routes: SoakRoute[];
  errors: number;
  errorSamples: string[];
  checkpoints: SoakCheckpoint[];
  warmupSeconds: number;
  /** Growth from the first checkpoint after warm-up to the last (0.05 = 5 %). */
  rssGrowth: number;
  heapGrowth: number;
  /** Whether the memory measured is the server's (in process) or only this client's. */
  memoryOf: 'server' | 'client';
  markdown: string;
}

const MiB = 1024 * 1024;
const PASSWORD = 'soak test passphrase 2026';
const FRAMES_PER_RECORDING = 200;
const LOGIN_TOKENS_KEPT = 16;

/** A garbage collection on demand, so memory checkpoints compare live data, not GC timing. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return gc ?? (() => undefined);
}

interface Answer {
  status: number;
  body: any;
  text: string;
}

/**
 * `npm run soak`: a realistic mixed load on loopback for a while, against the local runtime in
 * this process (so its memory is the server's) or a running one at `url`. Logins run at a rate
 * bcrypt allows (a quarter of one core); the other clients mix session checks, API-key
 * verification, allowlist-gated org reads, frame ingestion and audited writes (API keys made and
 * revoked). Every `intervalSeconds` it prints throughput, errors, memory after a GC and event-loop
 * delay. Any answer other than the expected one is an error.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const connections = options.connections ?? 8;
  const intervalMs = (options.intervalSeconds ?? 10) * 1000;
  const gc = gcFunction();
  const target = await startTarget(options);
  const agent = new Agent({ keepAlive: true, maxSockets: connections + 4 });
  let ipCounter = 0;
  // Each login and sign-up comes from its own address (X-Forwarded-For, trusted one hop), as many
  // users behind the load balancer would: the per-address login limit is not what is measured.
  const freshIp = () => {
    ipCounter++;
    return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
  };
  const call = (
    method: string,
    path: string,
    opts: {
      body?: unknown;
      raw?: string;
      type?: string;
      token?: string;
      headers?: Record<string, string>;
    } = {},
  ) =>
    new Promise<Answer>((resolve, reject) => {
      const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
      const headers: Record<string, string> = { 'x-forwarded-for': '10.250.0.1', ...opts.headers };
      if (payload !== undefined) {
        headers['content-type'] = opts.type ?? 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const req = request(`${target.url}${path}`, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  const expect = (answer: Answer, status: number, what: string) => {
    if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
    return answer.body;
  };

  try {
    // Set-up through the API: an owner with an org whose allowlist is on, an API key, a
    // recording, and a few members whose logins make the login traffic.
    const mailToken = async (email: string) => {
      for (let i = 0; i < 100; i++) {
        const box = expect(await call('GET', '/api/dev/mailbox'), 200, 'mailbox');
        const mail = (box.messages as Array<{ to: string; action: { type: string; url: string } }>)
          .filter((m) => m.to === email && m.action.type === 'verify-email')
          .at(-1);
        if (mail) return new URL(mail.action.url).searchParams.get('token') as string;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no verification mail for ${email}`);
    };
    const run = randomBytes(3).toString('hex');
    const newAccount = async (label: string) => {
      const email = `soak-${label}-${run}@example.com`;
      expect(
        await call('POST', '/api/accounts/signup', {
          body: { email, password: PASSWORD, name: label },
          headers: { 'x-forwarded-for': freshIp() },
        }),
        202,
        'signup',
      );
      expect(
        await call('POST', '/api/accounts/verify-email', {
          body: { token: await mailToken(email) },
          headers: { 'x-forwarded-for': freshIp() },
        }),
        200,
        'verify',
      );
      const login = expect(
        await call('POST', '/api/login', {
          body: { email, password: PASSWORD },
          headers: { 'x-forwarded-for': freshIp() },
        }),
        200,
        'login',
      );
      return { email, token: login.token as string };
    };
    const owner = await newAccount('owner');
    const org = expect(
      await call('POST', '/api/orgs', {
        token: owner.token,
        body: { name: `Soak ${run}`, slug: `soak-${run}` },
      }),
      201,
      'create org',
    );
    const orgId = org.id as string;
    const sudo = expect(
      await call('POST', '/api/sessions/step-up', { token: owner.token, body: { password: PASSWORD } }),
      200,
      'step-up',
    ).token as string;
    expect(
      await call('PUT', `/api/orgs/${orgId}/allowlist`, {
        token: sudo,
        body: { enabled: true, entries: [{ cidr: '10.0.0.0/8', label: 'soak clients' }] },
      }),
      200,
      'allowlist',
    );
    const ownerToken = sudo;
    const apiKey = expect(
      await call('POST', `/api/orgs/${orgId}/keys`, {
        token: ownerToken,
        body: { name: 'soak', role: 'member' },
      }),
      201,
      'api key',
    ).key as string;
    const members = [await newAccount('member1'), await newAccount('member2')];

    // Measured load.
    const routes = new Map<string, { histogram: Histogram; errors: number; windowCount: number }>();
    const errorSamples: string[] = [];
    let errors = 0;
    let windowErrors = 0;
    const timed = async (
      route: string,
      expected: number,
      send: () => Promise<Answer>,
    ): Promise<Answer | null> => {
      let stats = routes.get(route);
      if (!stats) {
        stats = { histogram: new Histogram(), errors: 0, windowCount: 0 };
        routes.set(route, stats);
      }
      const started = performance.now();
      let answer: Answer | null = null;
      let problem: string | null = null;
      try {
        answer = await send();
        if (answer.status !== expected) problem = `${route}: ${answer.status} ${answer.text.slice(0, 160)}`;
      } catch (error) {
        problem = `${route}: ${(error as Error).message}`;
      }
      stats.histogram.record(performance.now() - started);
      stats.windowCount++;
      if (problem) {
        stats.errors++;
        errors++;
        windowErrors++;
        if (errorSamples.length < 10) errorSamples.push(problem);
        return null;
      }
      return answer;
    };

    // The owner's first token was replaced by the step-up; the sudo token is its session now.
    const sessionTokens = [ownerToken, ...members.map((m) => m.token)];
    // Checks in flight per token: a session logs out only once nobody is still checking it.
    const checking = new Map<string, number>();
    let recording = {
      id: expect(
        await call('POST', `/api/orgs/${orgId}/recordings`, {
          token: ownerToken,
          body: { title: 'soak', width: 80, height: 24, machineId: 'soak-1' },
        }),
        201,
        'recording',
      ).id as string,
      nextSeq: 0,
      inFlight: 0,
    };
    let rotating: Promise<void> | null = null;
    const rotate = async () => {
      const old = recording;
      const started = await timed('POST /api/orgs/:orgId/recordings', 201, () =>
        call('POST', `/api/orgs/${orgId}/recordings`, {
          token: ownerToken,
          body: { title: 'soak', width: 80, height: 24, machineId: 'soak-1' },
        }),
      );
      if (started) recording = { id: started.body.id, nextSeq: 0, inFlight: 0 };
      while (old.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await timed('POST /api/recordings/:id/stop', 202, () =>
        call('POST', `/api/recordings/${old.id}/stop`, { token: ownerToken }),
      );
    };

    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)] as T;
    const operations: Array<[weight: number, op: () => Promise<unknown>]> = [
      [
        40,
        () => {
          const token = pick(sessionTokens);
          checking.set(token, (checking.get(token) ?? 0) + 1);
          return timed('GET /api/sessions/current', 200, () =>
            call('GET', '/api/sessions/current', { token }),
          ).finally(() => {
            const left = (checking.get(token) ?? 1) - 1;
            if (left === 0) checking.delete(token);
            else checking.set(token, left);
          });
        },
      ],
      [
        20,
        () =>
          timed('POST /api/keys/verify', 200, () =>
            call('POST', '/api/keys/verify', { body: { key: apiKey } }),
          ),
      ],
      [
        15,
        () =>
          timed('GET /api/orgs/:orgId/members', 200, () =>
            call('GET', `/api/orgs/${orgId}/members`, {
              token: ownerToken,
              headers: { 'x-forwarded-for': freshIp() },
            }),
          ),
      ],
      [
        20,
        async () => {
          if (recording.nextSeq >= FRAMES_PER_RECORDING) {
            rotating ??= rotate().finally(() => {
              rotating = null;
            });
            await rotating;
            return;
          }
          const current = recording;
          const seq = current.nextSeq++;
          current.inFlight++;
          try {
            await timed('POST /api/recordings/:id/frames', 202, () =>
              call('POST', `/api/recordings/${current.id}/frames`, {
                token: ownerToken,
                raw: `${JSON.stringify([seq / 10, 'o', `line ${seq} ${'x'.repeat(60)}\r\n`])}\n`,
                type: 'application/x-ndjson',
                headers: { 'x-frame-seq': String(seq) },
              }),
            );
          } finally {
            current.inFlight--;
          }
        },
      ],
      [
        5,
        async () => {
          const made = await timed('POST /api/orgs/:orgId/keys', 201, () =>
            call('POST', `/api/orgs/${orgId}/keys`, {
              token: ownerToken,
              body: { name: 'churn', role: 'viewer' },
            }),
          );
          if (made) {
            await timed('DELETE /api/orgs/:orgId/keys/:id', 204, () =>
              call('DELETE', `/api/orgs/${orgId}/keys/${made.body.id}`, { token: ownerToken }),
            );
          }
        },
      ],
    ];
    const totalWeight = operations.reduce((sum, [w]) => sum + w, 0);
    const chooseOperation = () => {
      let roll = Math.random() * totalWeight;
      for (const [weight, op] of operations) {
        roll -= weight;
        if (roll < 0) return op;
      }
      return operations[0]![1];
    };

    // bcrypt-bound: time one login, then log in at a pace that keeps bcrypt near a quarter of a core.
    const probeStart = performance.now();
    await newLogin(members[0]!.email);
    const loginMs = performance.now() - probeStart;
    const loginsPerSecond = options.loginsPerSecond ?? Math.min(20, Math.max(0.2, 250 / loginMs));
    async function newLogin(email: string): Promise<void> {
      const answer = await timed('POST /api/login', 200, () =>
        call('POST', '/api/login', {
          body: { email, password: PASSWORD },
          headers: { 'x-forwarded-for': freshIp() },
        }),
      );
      if (!answer) return;
      sessionTokens.push(answer.body.token);
      // Keep a steady number of live sessions: the oldest login logs out.
      if (sessionTokens.length > LOGIN_TOKENS_KEPT + 3) {
        const [old] = sessionTokens.splice(3, 1) as [string];
        while (checking.has(old)) await new Promise((resolve) => setTimeout(resolve, 5));
        await timed('POST /api/login/logout', 204, () => call('POST', '/api/login/logout', { token: old }));
      }
    }

    const seconds = options.seconds;
    const warmupSeconds =
      options.warmupSeconds ??
      Math.max(intervalMs / 1000, Math.round(seconds / 5 / (intervalMs / 1000)) * (intervalMs / 1000));
    const startedAt = performance.now();
    const endsAt = startedAt + seconds * 1000;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const checkpoints: SoakCheckpoint[] = [];
    let windowStart = performance.now();
    print(
      `soak: ${seconds} s against ${target.url} (${target.engine}), ${connections} clients + logins at ${loginsPerSecond.toFixed(2)}/s; warm-up ${warmupSeconds} s`,
    );
    const checkpoint = () => {
      gc();
      const memory = process.memoryUsage();
      const now = performance.now();
      const windowRequests = [...routes.values()].reduce((sum, r) => sum + r.windowCount, 0);
      for (const r of routes.values()) r.windowCount = 0;
      const point: SoakCheckpoint = {
        atSeconds: Math.round((now - startedAt) / 1000),
        requestsPerSecond: windowRequests / ((now - windowStart) / 1000),
        errors: windowErrors,
        rssMiB: memory.rss / MiB,
        heapMiB: memory.heapUsed / MiB,
        externalMiB: memory.external / MiB,
        loopP50Ms: loop.percentile(50) / 1e6,
        loopP99Ms: loop.percentile(99) / 1e6,
        loopMaxMs: loop.max / 1e6,
      };
      loop.reset();
      windowErrors = 0;
      windowStart = now;
      checkpoints.push(point);
      print(
        `  ${String(point.atSeconds).padStart(4)} s  ${point.requestsPerSecond.toFixed(0).padStart(6)} req/s  errors ${point.errors}  rss ${point.rssMiB.toFixed(1)} MiB  heap ${point.heapMiB.toFixed(1)} MiB  external ${point.externalMiB.toFixed(1)} MiB  loop delay p50 ${point.loopP50Ms.toFixed(1)} / p99 ${point.loopP99Ms.toFixed(1)} / max ${point.loopMaxMs.toFixed(1)} ms`,
      );
    };
    const ticker = setInterval(checkpoint, intervalMs);

    const client = async () => {
      while (performance.now() < endsAt) await chooseOperation()();
    };
    const loginLoop = async () => {
      let next = performance.now();
      let i = 0;
      while (performance.now() < endsAt) {
        next += 1000 / loginsPerSecond;
        await newLogin(members[i++ % members.length]!.email);
        const wait = next - performance.now();
        const until = Math.min(wait, endsAt - performance.now());
        if (until > 0) await new Promise((resolve) => setTimeout(resolve, until));
      }
    };
    await Promise.all([loginLoop(), ...Array.from({ length: connections }, client)]);
    await rotating;
    clearInterval(ticker);
    loop.disable();
    const elapsedSeconds = (performance.now() - startedAt) / 1000;

    const afterWarmup = checkpoints.filter((c) => c.atSeconds > warmupSeconds);
    const first = afterWarmup[0];
    const last = afterWarmup.at(-1);
    const rssGrowth = first && last ? last.rssMiB / first.rssMiB - 1 : 0;
    const heapGrowth = first && last ? last.heapMiB / first.heapMiB - 1 : 0;
    const routeRows: SoakRoute[] = [...routes.entries()]
      .map(([route, r]) => ({
        route,
        requests: r.histogram.count,
        perSecond: r.histogram.count / elapsedSeconds,
        p50Ms: r.histogram.percentile(50),
        p99Ms: r.histogram.percentile(99),
        errors: r.errors,
      }))
      .sort((a, b) => b.requests - a.requests);
    const memoryOf = target.inProcess ? 'server' : 'client';
    const measured: Omit<SoakReport, 'markdown'> = {
      seconds: elapsedSeconds,
      target: target.url,
      engine: target.engine,
      connections,
      loginsPerSecond,
      routes: routeRows,
      errors,
      errorSamples,
      checkpoints,
      warmupSeconds,
      rssGrowth,
      heapGrowth,
      memoryOf,
    };
    return { ...measured, markdown: soakMarkdown(measured) };
  } finally {
    agent.destroy();
    await target.stop();
  }
}

interface Target {
  url: string;
  engine: string;
  inProcess: boolean;
  stop(): Promise<void>;
}

/** The local runtime in this process (PGlite in a temporary DATA_DIR, or a schema of DATABASE_URL). */
async function startTarget(options: SoakOptions): Promise<Target> {
  if (options.url) {
    return {
      url: options.url.replace(/\/$/, ''),
      engine: 'as configured there',
      inProcess: false,
      stop: async () => {},
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'sf-soak-'));
  const config = {
    ...loadConfig({ PORT: '0', DATA_DIR: dataDir, TRUSTED_PROXY_HOPS: '1', LOG_LEVEL: 'info' }),
    passwordHashCost: options.hashCost ?? 12,
  };
  let database: DbHandle;
  let dropSchema = async () => {};
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `soak_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    database = await openDatabase({ kind: 'postgres', url, poolMax: 10 }, { searchPath: schema });
    await migrate(database);
    dropSchema = async () => {
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    };
  } else {
    database = await openDatabase({ kind: 'pglite', dataDir: options.pgliteInMemory ? null : dataDir });
    await migrate(database);
  }
  // Every line is built and serialized as in production, then dropped: the cost stays, the noise goes.
  const logger = createLogger('info', () => undefined);
  const runtime = await startLocalRuntime(config, { database, env: {}, migrate: false, logger });
  return {
    url: runtime.url,
    engine: url ? 'PostgreSQL' : 'PGlite',
    inProcess: true,
    async stop() {
      await runtime.stop();
      await dropSchema();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function soakMarkdown(r: Omit<SoakReport, 'markdown'>): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const routeTable: Row[] = r.routes.map((row) => ({
    route: row.route,
    requests: row.requests,
    'req/s': row.perSecond,
    'p50 ms': row.p50Ms,
    'p99 ms': row.p99Ms,
    errors: row.errors,
  }));
  const memoryTable: Row[] = r.checkpoints.map((c) => ({
    s: c.atSeconds,
    'req/s': c.requestsPerSecond,
    errors: c.errors,
    'RSS MiB': c.rssMiB,
    'heap MiB': c.heapMiB,
    'external MiB': c.externalMiB,
    'loop p50 ms': c.loopP50Ms,
    'loop p99 ms': c.loopP99Ms,
    'loop max ms': c.loopMaxMs,
  }));
  return [
    `## Soak: mixed load on loopback (${r.engine})`,
    '',
    `${Math.round(r.seconds)} s against ${r.memoryOf === 'server' ? `the local runtime in process (${r.engine})` : r.target}, ${r.connections} clients plus logins at ${r.loginsPerSecond.toFixed(2)}/s (bcrypt cost 12, about a quarter of a core); Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, a shared 2-core machine under load. Written by \`npm run soak\`.`,
    '',
    `Errors: **${r.errors}**${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''}. Memory of the ${r.memoryOf} after a forced GC at each checkpoint; growth from the first checkpoint after the ${r.warmupSeconds} s warm-up to the last: RSS ${pct(r.rssGrowth)}, heap ${pct(r.heapGrowth)} (limit 10 %).`,
    '',
    markdownTable(routeTable),
    '',
    markdownTable(memoryTable),
    '',
  ].join('\n');
}
