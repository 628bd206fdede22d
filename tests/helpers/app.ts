import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MailMessage } from '../../shared/bus/topics.js';
import { type Env, loadConfig } from '../../shared/config/config.js';
import type { DbHandle } from '../../shared/db/connect.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../shared/runtime/local.js';
import type { Clock } from '../../shared/time/clock.js';
import { openTestDatabase } from './db.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** Send this exact body text (with the given headers) instead of JSON. */
  raw?: string | Buffer;
}

export interface TestApp {
  runtime: LocalRuntime;
  url: string;
  dataDir: string;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  /** Waits until the outbox is drained and every bus delivery (mail, revocations…) has run. */
  settle(): Promise<void>;
  mails(): MailMessage[];
  /** The token carried in the newest mail of this type to this address. */
  tokenFromMail(to: string, type: MailMessage['action']['type']): string;
  /** Signs up, verifies and logs in a user; returns the login answer's token and user. */
  signupVerifiedAndLogin(
    email?: string,
    password?: string,
  ): Promise<{ token: string; userId: string; email: string; password: string }>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  env?: Env;
  clock?: Clock;
  logger?: Logger;
  /** A database opened elsewhere (e.g. behind a fault injector); default: a fresh test database. */
  database?: DbHandle;
}

let counter = 0;

/**
 * A fresh client address for a helper's signup and verification, so the per-IP limits of those
 * routes (10 per 15 minutes) never trip in tests that create many users. Only apps with
 * TRUSTED_PROXY_HOPS >= 1 read it; others see every request from the socket's address.
 */
export function helperClient(): Record<string, string> {
  counter++;
  return { 'x-forwarded-for': `100.64.${(counter >> 8) & 255}.${counter & 255}` };
}

/** Boots the whole local runtime (gateway, every unit, bus) on a fresh database and a random port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sf-test-'));
  const config = {
    ...loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...options.env }),
    // Cost 4 keeps the suite fast; production's floor of 12 is asserted in config.test.ts.
    passwordHashCost: 4,
  };
  const database = options.database ?? (await openTestDatabase());
  const runtime = await startLocalRuntime(config, {
    database,
    env: {},
    migrate: false,
    scheduler: false,
    logger: options.logger ?? createLogger((process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'silent'),
    ...(options.clock ? { clock: options.clock } : {}),
  });

  const app: TestApp = {
    runtime,
    url: runtime.url,
    dataDir,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      if (opts.raw !== undefined) body = typeof opts.raw === 'string' ? opts.raw : new Uint8Array(opts.raw);
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const response = await fetch(`${runtime.url}${path}`, { method, headers, body, redirect: 'manual' });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON; keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed as any, text };
    },
    async settle() {
      const p = runtime.platform;
      for (let round = 0; round < 20; round++) {
        const published = await p.relay.drain();
        await p.localBus?.idle();
        const left = await p.db.selectFrom('outbox').select('id').limit(1).execute();
        if (published === 0 && left.length === 0) return;
      }
      throw new Error('the outbox did not settle');
    },
    mails() {
      const dir = join(dataDir, 'outbox');
      let files: string[] = [];
      try {
        files = readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .sort();
      } catch {
        return [];
      }
      return files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as MailMessage);
    },
    tokenFromMail(to, type) {
      const mail = app
        .mails()
        .filter((m) => m.to === to && m.action.type === type)
        .at(-1);
      if (!mail) throw new Error(`no ${type} mail to ${to}`);
      const token = new URL(mail.action.url).searchParams.get('token');
      if (!token) throw new Error('mail link has no token');
      return token;
    },
    async signupVerifiedAndLogin(
      email = `user${++counter}-${Date.now()}@example.com`,
      password = 'a long enough passphrase 42',
    ) {
      const signup = await app.request('POST', '/api/accounts/signup', {
        body: { email, password, name: 'Test User' },
        headers: helperClient(),
      });
      if (signup.status !== 202) throw new Error(`signup failed: ${signup.text}`);
      await app.settle();
      const verify = await app.request('POST', '/api/accounts/verify-email', {
        body: { token: app.tokenFromMail(email, 'verify-email') },
        headers: helperClient(),
      });
      if (verify.status !== 200) throw new Error(`verify failed: ${verify.text}`);
      const login = await app.request('POST', '/api/login', { body: { email, password } });
      if (login.status !== 200) throw new Error(`login failed: ${login.text}`);
      return { token: login.body.token, userId: login.body.user.id, email, password };
    },
    stop: () => runtime.stop(),
  };
  return app;
}
