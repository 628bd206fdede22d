import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBlobStore } from '../shared/blob/local.js';
import { loadConfig } from '../shared/config/config.js';
import type { Db } from '../shared/db/connect.js';
import { createLogger } from '../shared/log/logger.js';
import { Archiver } from '../shared/recordings/archiver.js';
import { asciicastHeader } from '../shared/recordings/model.js';
import { PostgresFrameBuffer } from '../shared/recordings/postgres-frame-buffer.js';
import { startLocalRuntime } from '../shared/runtime/local.js';
import { insertOrg, openTestDatabase } from '../tests/helpers/db.js';
import { machineLine, type Row, report } from './lib/report.js';

/**
 * Issue 9 figures: (1) archiving a synthetic recording (buffer → gzip -6 → SHA-256 → blob file)
 * against `gzip -6` on the same bytes in the same run, with peak RSS growth while archiving, at two
 * sizes to show both scale linearly; (2) frame ingestion over HTTP in MB/s, on PGlite and, when
 * DATABASE_URL is set, PostgreSQL.
 */
const MiB = 1024 * 1024;
const SIZES_MB = (process.env.BENCH_RECORDING_MB ?? '50,200').split(',').map(Number);
const INGEST_MB = Number(process.env.BENCH_INGEST_MB ?? 64);
const CHUNK_BYTES = MiB;
const logger = createLogger('silent');
const engines: Array<'pglite' | 'postgres'> = [
  'pglite',
  ...(process.env.DATABASE_URL ? ['postgres' as const] : []),
];

/** Terminal-like output: prompts, ANSI colour, paths and numbers from a fixed-seed generator. */
function* syntheticChunks(totalBytes: number): Generator<{ data: Buffer; first: number; last: number }> {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const words = [
    'ls',
    '-la',
    '/var/log/nginx',
    'access.log',
    'GET',
    '/api/v1/items',
    '200',
    'kubectl',
    'pods',
    'Running',
    'error:',
    'timeout',
    'deploy',
    'main',
    'ok',
  ];
  let time = 0;
  let produced = 0;
  while (produced < totalBytes) {
    const lines: string[] = [];
    let size = 0;
    let first = -1;
    while (size < CHUNK_BYTES - 200) {
      const count = 4 + (next() % 12);
      let text = `\u001b[3${next() % 8}m${next() % 100000}\u001b[0m`;
      for (let i = 0; i < count; i++) text += ` ${words[next() % words.length]}`;
      time = Number((time + (next() % 50) / 1000).toFixed(3));
      if (first < 0) first = time;
      const line = JSON.stringify([time, 'o', `${text}\r\n`]);
      lines.push(line);
      size += line.length + 1;
    }
    const data = Buffer.from(`${lines.join('\n')}\n`);
    produced += data.length;
    yield { data, first, last: time };
  }
}

async function seedRecording(db: Db): Promise<{ orgId: string; id: string }> {
  const orgId = await insertOrg(db, { slug: `bench-${randomUUID().slice(0, 8)}`, now: new Date() });
  const id = randomUUID();
  await db
    .insertInto('recordings')
    .values({
      id,
      org_id: orgId,
      title: 'bench',
      width: 120,
      height: 40,
      machine_id: null,
      status: 'archiving',
      started_by_type: 'system',
      started_by_id: null,
      started_at: new Date('2026-01-01T00:00:00Z'),
      stopped_at: new Date(),
      archived_at: null,
      blob_key: null,
      bytes: null,
      sha256: null,
      archive_attempts: 0,
      last_error: null,
    })
    .execute();
  return { orgId, id };
}

async function archiveRun(engine: 'pglite' | 'postgres', sizeMb: number, work: string): Promise<Row> {
  const handle = await openTestDatabase(engine);
  const { db } = handle;
  const buffer = new PostgresFrameBuffer(db);
  const { id } = await seedRecording(db);
  // The same bytes as a plain file for gzip: header + events, exactly what the archiver compresses.
  const plainFile = join(work, `plain-${engine}-${sizeMb}.cast`);
  writeFileSync(
    plainFile,
    asciicastHeader({ width: 120, height: 40, startedAt: new Date('2026-01-01T00:00:00Z'), title: 'bench' }),
  );
  let seq = 0;
  for (const chunk of syntheticChunks(sizeMb * MiB)) {
    const outcome = await buffer.append(
      id,
      { seq: seq++, firstTime: chunk.first, lastTime: chunk.last, data: chunk.data },
      8 * 1024 * MiB,
    );
    if (outcome.kind !== 'appended') throw new Error(`append refused: ${outcome.kind}`);
    writeFileSync(plainFile, chunk.data, { flag: 'a' });
  }
  const inputBytes = statSync(plainFile).size;

  const gzipStart = performance.now();
  const gz = spawnSync('sh', ['-c', `gzip -6 -c "${plainFile}" > "${plainFile}.gz"`]);
  const gzipSeconds = (performance.now() - gzipStart) / 1000;
  if (gz.status !== 0) throw new Error(`gzip failed: ${gz.stderr}`);
  const gzipBytes = statSync(`${plainFile}.gz`).size;
  rmSync(`${plainFile}.gz`);

  const blobs = new LocalBlobStore(work, `blobs-${engine}-${sizeMb}`);
  const archiver = new Archiver({ db, buffer, blobs, logger });
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 5);
  const start = performance.now();
  let archived = 0;
  await db.transaction().execute(async (tx) => {
    await archiver.archive(id, tx, new Date());
    const row = await tx
      .selectFrom('recordings')
      .select('bytes')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    archived = Number(row.bytes);
  });
  const archiveSeconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  await handle.close();
  rmSync(plainFile);
  rmSync(join(work, 'blobs', `blobs-${engine}-${sizeMb}`), { recursive: true, force: true });

  const archiveRate = inputBytes / MiB / archiveSeconds;
  const gzipRate = inputBytes / MiB / gzipSeconds;
  return {
    engine,
    'input MB': Number((inputBytes / MiB).toFixed(1)),
    'archive s': Number(archiveSeconds.toFixed(2)),
    'archive MB/s': Number(archiveRate.toFixed(1)),
    'gzip -6 s': Number(gzipSeconds.toFixed(2)),
    'gzip -6 MB/s': Number(gzipRate.toFixed(1)),
    'ratio (≥ 0.7)': Number((archiveRate / gzipRate).toFixed(2)),
    'archive gz MB': Number((archived / MiB).toFixed(2)),
    'gzip gz MB': Number((gzipBytes / MiB).toFixed(2)),
    'peak RSS growth MB (≤ 64)': Number(((rssPeak - rssBefore) / MiB).toFixed(1)),
  };
}

async function ingestRun(engine: 'pglite' | 'postgres', work: string): Promise<Row> {
  // Generated before any request: a long pause would let the server close the kept-alive socket.
  const chunks = [...syntheticChunks(INGEST_MB * MiB)];
  const database = await openTestDatabase(engine);
  const config = loadConfig({ PORT: '0', DATA_DIR: join(work, `ingest-${engine}`), TRUSTED_PROXY_HOPS: '1' });
  const runtime = await startLocalRuntime(
    { ...config, passwordHashCost: 12 },
    { database, env: {}, migrate: false, scheduler: false, logger },
  );
  const email = `bench-${engine}-${Date.now()}@example.com`;
  const password = 'benchmark passphrase 2026';
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${runtime.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': '192.0.2.9',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json().catch(() => undefined)) as any;
  };
  await call('POST', '/api/accounts/signup', { email, password, name: 'Bench' });
  await runtime.platform.db.updateTable('users').set({ email_verified_at: new Date() }).execute();
  const token = (await call('POST', '/api/login', { email, password })).token as string;
  const org = await call(
    'POST',
    '/api/orgs',
    { name: 'bench', slug: `bench-${engine}-${Date.now()}` },
    token,
  );
  const { id } = await call(
    'POST',
    `/api/orgs/${org.id}/recordings`,
    { title: 'bench', width: 120, height: 40 },
    token,
  );

  const start = performance.now();
  let bytes = 0;
  for (let seq = 0; seq < chunks.length; seq++) {
    const data = chunks[seq]?.data as Buffer;
    const res = await fetch(`${runtime.url}/api/recordings/${id}/frames`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        'x-frame-seq': String(seq),
        authorization: `Bearer ${token}`,
      },
      body: new Uint8Array(data),
    });
    if (res.status !== 202) throw new Error(`frames answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    bytes += data.length;
  }
  const seconds = (performance.now() - start) / 1000;
  await runtime.stop();
  return {
    engine,
    'requests (1 MiB each)': chunks.length,
    'MB sent': Number((bytes / MiB).toFixed(1)),
    seconds: Number(seconds.toFixed(2)),
    'MB/s': Number((bytes / MiB / seconds).toFixed(1)),
    'ms per request': Number(((seconds * 1000) / chunks.length).toFixed(1)),
  };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'sf-bench-rec-'));
  const ingestRows: Row[] = [];
  for (const engine of engines) {
    ingestRows.push(await ingestRun(engine, work));
    console.error(JSON.stringify(ingestRows.at(-1)));
  }
  const archiveRows: Row[] = [];
  for (const engine of engines) {
    for (const size of SIZES_MB) {
      archiveRows.push(await archiveRun(engine, size, work));
      console.error(JSON.stringify(archiveRows.at(-1)));
    }
  }
  rmSync(work, { recursive: true, force: true });

  const first = archiveRows[0];
  const second = archiveRows.find((r, i) => i > 0 && r.engine === 'pglite');
  const linearity =
    first && second
      ? `Linearity: ${first['input MB']} MB → ${second['input MB']} MB (×${(Number(second['input MB']) / Number(first['input MB'])).toFixed(2)}) took ×${(Number(second['archive s']) / Number(first['archive s'])).toFixed(2)} the archive time; peak RSS growth ${first['peak RSS growth MB (≤ 64)']} MB vs ${second['peak RSS growth MB (≤ 64)']} MB (flat in size).`
      : '';
  report(
    'recordings',
    'Recordings: archive throughput vs gzip -6, memory, and HTTP ingestion',
    [
      machineLine(),
      `Sizes: ${SIZES_MB.join(' and ')} MB requested (BENCH_RECORDING_MB); load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ' / ',
        )} on ${availableParallelism()} cores, shared with other work, so compare the ratios, not absolute rates.`,
      '',
      'Archive: a synthetic terminal recording (ANSI-coloured command output, 1 MiB chunks) buffered in the',
      'PostgreSQL frame buffer, then `Archiver.archive` streams header + chunks in seq order through gzip -6',
      'with SHA-256 and byte counting into the local blob store (temp file + rename), and marks the row',
      'archived with its audit event. `gzip -6 -c` runs on the identical uncompressed bytes (from a file) in',
      'the same run. Ratio = archive MB/s ÷ gzip MB/s (target ≥ 0.7). RSS is sampled every 5 ms during the',
      'archive; growth is over the RSS just before it (target ≤ 64 MB). Archive time includes reading the',
      'buffer from the database (PGlite in the same process).',
      linearity,
      '',
      `Ingestion: ${INGEST_MB} MiB of the same events posted over HTTP (local gateway → recordings unit) as`,
      'sequential 1 MiB NDJSON requests by one client with a session token; each request is validated,',
      'appended to the buffer in its own transaction, and answered 202.',
    ],
    archiveRows,
  );
  const { markdownTable } = await import('./lib/report.js');
  const ingestSection = `\n### Frame ingestion over HTTP (${INGEST_MB} MiB, sequential 1 MiB requests)\n\n${markdownTable(ingestRows)}\n`;
  process.stdout.write(ingestSection);
  const { appendFileSync } = await import('node:fs');
  appendFileSync(join(import.meta.dirname, 'results', 'recordings.md'), ingestSection);
}

await main();
process.exit(0);
