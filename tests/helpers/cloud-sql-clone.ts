import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { type DbHandle, openDatabase } from '../../shared/db/connect.js';

/** The PostgreSQL server the drill tests clone on: DATABASE_URL's, or the local one. */
export const drillServerUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function databaseUrl(name: string): string {
  const url = new URL(drillServerUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function serverQuery(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: drillServerUrl });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** Drops a database once its last connections have gone (a closed pool's sockets close a moment later). */
async function dropWhenIdle(name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await serverQuery(`drop database if exists "${name}"`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Where the test server's "instances" live: databases on the PostgreSQL server (a clone is
 * `CREATE DATABASE … TEMPLATE …`), or PGlite data directories under one folder (a clone is a copy
 * of the directory). Either way the drill checks a real copy of real data.
 */
export type CloneBackend = { kind: 'postgres' } | { kind: 'pglite'; root: string };

/** Opens an instance of the backend: the drill's `connect`, and the tests' way to tamper with a copy. */
export function openInstance(backend: CloneBackend, instance: string): Promise<DbHandle> {
  return backend.kind === 'postgres'
    ? openDatabase({ kind: 'postgres', url: databaseUrl(instance), poolMax: 1 })
    : openDatabase({ kind: 'pglite', dataDir: join(backend.root, instance) });
}

async function cloneInstance(backend: CloneBackend, source: string, scratch: string): Promise<void> {
  if (backend.kind === 'postgres') {
    await serverQuery(`create database "${scratch}" template "${source}"`);
    return;
  }
  const from = join(backend.root, source);
  // Like Cloud SQL, cloning an instance that does not exist fails rather than making an empty one.
  if (!existsSync(join(from, 'pglite'))) throw new Error(`instance ${source} does not exist`);
  cpSync(from, join(backend.root, scratch), { recursive: true, errorOnExist: true, force: false });
}

async function deleteInstance(backend: CloneBackend, instance: string): Promise<void> {
  if (backend.kind === 'postgres') await dropWhenIdle(instance);
  else rmSync(join(backend.root, instance), { recursive: true, force: true });
}

export interface FakeCloneAdmin {
  url: string;
  /** Scratch instances created and not yet deleted. */
  live: Set<string>;
  requests: string[];
  /** Runs against the fresh copy before the operation reports DONE (a tampered or truncated restore). */
  afterClone: ((scratch: string) => Promise<void>) | null;
  close(): Promise<void>;
}

/**
 * A Cloud SQL Admin API test server for the restore drill: `instances.clone` makes a real copy of
 * the source (CloneBackend; both need the source idle, which Cloud SQL does not), its operation is
 * PENDING on the first poll and DONE on the next, and `instances.delete` removes the copy.
 * Instance names map to database names or directories.
 */
export async function startFakeCloneAdmin(
  project: string,
  backend: CloneBackend = { kind: 'postgres' },
): Promise<FakeCloneAdmin> {
  const operations = new Map<string, { polls: number }>();
  const fake: FakeCloneAdmin = {
    url: '',
    live: new Set(),
    requests: [],
    afterClone: null,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const operation = (status: string) => {
    const name = `op-${randomBytes(4).toString('hex')}`;
    operations.set(name, { polls: 0 });
    return { name, status };
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    fake.requests.push(`${req.method} ${path}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const clone = new RegExp(`^/v1/projects/${project}/instances/([a-z0-9_-]+)/clone$`).exec(path);
      const instance = new RegExp(`^/v1/projects/${project}/instances/([a-z0-9_-]+)$`).exec(path);
      const op = new RegExp(`^/v1/projects/${project}/operations/([a-z0-9-]+)$`).exec(path);
      if (req.method === 'POST' && clone) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const scratch: string = body.cloneContext.destinationInstanceName;
        if (!body.cloneContext.pointInTime) return send(400, { error: 'pointInTime required' });
        await cloneInstance(backend, clone[1] as string, scratch);
        fake.live.add(scratch);
        if (fake.afterClone) await fake.afterClone(scratch);
        return send(200, operation('PENDING'));
      }
      if (req.method === 'DELETE' && instance) {
        await deleteInstance(backend, instance[1] as string);
        fake.live.delete(instance[1] as string);
        return send(200, operation('PENDING'));
      }
      if (req.method === 'GET' && op) {
        const known = operations.get(op[1] as string);
        if (!known) return send(404, { error: 'no such operation' });
        known.polls++;
        return send(200, { name: op[1], status: known.polls > 1 ? 'DONE' : 'RUNNING' });
      }
      return send(404, { error: 'not found' });
    } catch (error) {
      return send(500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
