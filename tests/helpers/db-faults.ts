import { randomBytes } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type DbHandle, openDatabase, wrapPGlite } from '../../shared/db/connect.js';
import { migrate } from '../../shared/db/migrate.js';
import { openTestPGlite, testEngine } from './db.js';

/**
 * A database the test can take away and give back. On PostgreSQL (DATABASE_URL) the product's
 * pool connects through a TCP proxy in this process that drops every connection on `cut()` and
 * refuses new ones until `restore()`: what a failover or restart looks like from the client. On
 * PGlite, which has no socket, the same faults are injected at the handle: every statement fails
 * with node-postgres's own "Connection terminated" error, and an open transaction is rolled back
 * first, as the server does when a connection dies.
 */
export interface FaultyDatabase {
  handle: DbHandle;
  engine: 'pglite' | 'postgres';
  /** Drops every connection now; new ones fail until `restore()`. */
  cut(): void;
  /** The first statement whose SQL matches `pattern` is never run: the connection drops just before it. */
  cutOn(pattern: RegExp): Promise<void>;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function openFaultyDatabase(): Promise<FaultyDatabase> {
  return testEngine === 'postgres' ? proxiedPostgres() : faultyPGlite();
}

function connectionTerminated(): Error {
  return new Error('Connection terminated unexpectedly');
}

async function faultyPGlite(): Promise<FaultyDatabase> {
  const real = await openTestPGlite();
  let down = false;
  let inTransaction = false;
  let trigger: { pattern: RegExp; fired: () => void } | null = null;

  async function gate(sqlText: string): Promise<void> {
    if (trigger?.pattern.test(sqlText)) {
      const fired = trigger.fired;
      trigger = null;
      down = true;
      fired();
    }
    if (!down) return;
    if (inTransaction) {
      // The server rolls back what a dead connection left open; nothing of it commits.
      inTransaction = false;
      await real.query('rollback');
    }
    throw connectionTerminated();
  }
  function track(sqlText: string): void {
    const word = sqlText.trimStart().slice(0, 8).toLowerCase();
    if (word.startsWith('begin')) inTransaction = true;
    else if (word.startsWith('commit') || word.startsWith('rollback')) inTransaction = false;
  }

  const faulty = new Proxy(real, {
    get(target, property) {
      if (property === 'query') {
        return async (sqlText: string, ...rest: unknown[]) => {
          await gate(sqlText);
          track(sqlText);
          return (target.query as (...a: unknown[]) => unknown)(sqlText, ...rest);
        };
      }
      if (property === 'exec') {
        return async (sqlText: string, ...rest: unknown[]) => {
          await gate(sqlText);
          return (target.exec as (...a: unknown[]) => unknown)(sqlText, ...rest);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as PGlite;
  const handle = await wrapPGlite(faulty);
  return {
    handle,
    engine: 'pglite',
    cut() {
      down = true;
    },
    cutOn(pattern) {
      return new Promise<void>((fired) => {
        trigger = { pattern, fired };
      });
    },
    restore() {
      down = false;
      trigger = null;
    },
    get isCut() {
      return down;
    },
    close: () => handle.close(),
  };
}

async function proxiedPostgres(): Promise<FaultyDatabase> {
  const url = process.env.DATABASE_URL as string;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const direct = await openDatabase({ kind: 'postgres', url, poolMax: 2 }, { searchPath: schema });
  await migrate(direct);
  await direct.close();

  const target = new URL(url);
  const proxy = await startProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const handle = await openDatabase(
    { kind: 'postgres', url: proxied.toString(), poolMax: 10 },
    { searchPath: schema },
  );
  return {
    handle,
    engine: 'postgres',
    cut: () => proxy.cut(),
    cutOn: (pattern) => proxy.cutOn(pattern),
    restore: () => proxy.restore(),
    get isCut() {
      return proxy.isCut;
    },
    async close() {
      await handle.close();
      await proxy.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

interface Proxy {
  port: number;
  isCut: boolean;
  cut(): void;
  cutOn(pattern: RegExp): Promise<void>;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy to host:port that can drop all its connections and refuse new ones on command. */
export async function startProxy(host: string, port: number): Promise<Proxy> {
  const pairs = new Set<[Socket, Socket]>();
  let down = false;
  let trigger: { pattern: RegExp; fired: () => void } | null = null;

  function dropAll(): void {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  }

  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    upstream.connect(port, host);
    client.on('data', (chunk: Buffer) => {
      // Statements travel as text in Query/Parse messages: match them before they leave.
      if (trigger?.pattern.test(chunk.toString('latin1'))) {
        const fired = trigger.fired;
        trigger = null;
        down = true;
        dropAll();
        fired();
        return;
      }
      if (!down) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!down) client.write(chunk);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    port: address.port,
    get isCut() {
      return down;
    },
    cut() {
      down = true;
      dropAll();
    },
    cutOn(pattern) {
      return new Promise<void>((fired) => {
        trigger = { pattern, fired };
      });
    },
    restore() {
      down = false;
      trigger = null;
    },
    async close() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
