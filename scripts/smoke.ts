import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

/**
 * After a deploy: `npm run smoke -- --url https://app.example.com [--mailbox-command '…']`.
 * Health → console → sign up → the verification mail → verify → log in → the session → revoke it
 * → the token is refused; over HTTPS also that port 80 redirects. The mail step needs a mailbox
 * reader: `--mail-dir` (the local runtime's .data/outbox) or `--mailbox-command`, a shell command
 * that prints the newest mail to $SMOKE_EMAIL (e.g. a curl to a test inbox's API). Without one,
 * the steps after signup are skipped and say so. Exit code 1 when any step fails.
 */
export interface SmokeOptions {
  url: string;
  /** `{n}` becomes a timestamp, so each run signs up a new address. */
  email: string;
  password: string;
  mailDir?: string;
  mailboxCommand?: string;
  /** Expect the console's HTML at `/` (off for a runtime that serves only the API). */
  console: boolean;
  mailTimeoutMs: number;
}

export interface SmokeStep {
  name: string;
  outcome: 'ok' | 'failed' | 'skipped';
  detail: string;
}

type Fetch = typeof fetch;

/** The fields of the API's answers the smoke test reads. */
interface Answer {
  status?: string;
  token?: string;
  session?: { id?: string; ip?: string };
}

const TOKEN = /[?&]token=([A-Za-z0-9_-]{16,})/;

/** The token of the newest mail to `email` in a mail text (quoted-printable soft breaks undone). */
export function tokenIn(text: string): string | undefined {
  return TOKEN.exec(text.replace(/=\r?\n/g, '').replaceAll('=3D', '='))?.[1];
}

function fromMailDir(dir: string, email: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return undefined;
  }
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (text.includes(email)) return tokenIn(text);
  }
  return undefined;
}

async function fromCommand(command: string, email: string): Promise<string | undefined> {
  const { stdout } = await promisify(execFile)('/bin/sh', ['-c', command], {
    env: { ...process.env, SMOKE_EMAIL: email },
    maxBuffer: 10 * 1024 * 1024,
  });
  return tokenIn(stdout);
}

export async function runSmoke(options: SmokeOptions, fetchImpl: Fetch = fetch): Promise<SmokeStep[]> {
  const steps: SmokeStep[] = [];
  const base = options.url.replace(/\/$/, '');
  const email = options.email.replace('{n}', String(Date.now()));
  const step = (name: string, ok: boolean, detail: string) => {
    steps.push({ name, outcome: ok ? 'ok' : 'failed', detail });
    return ok;
  };
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetchImpl(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    let json: Answer | undefined;
    try {
      json = text ? (JSON.parse(text) as Answer) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };

  const health = await call('GET', '/api/health');
  if (
    !step(
      'health',
      health.status === 200 && health.json?.status === 'ok',
      `GET /api/health → ${health.status}`,
    )
  )
    return steps;

  if (options.console) {
    const page = await call('GET', '/');
    step(
      'console',
      page.status === 200 && /<html/i.test(page.text),
      `GET / → ${page.status}, ${page.headers.get('content-type')}`,
    );
  }

  if (base.startsWith('https://')) {
    const plain = await fetchImpl(`http://${base.slice('https://'.length)}/api/health`, {
      redirect: 'manual',
    });
    const location = plain.headers.get('location') ?? '';
    step(
      'http redirects to https',
      [301, 308].includes(plain.status) && location.startsWith('https://'),
      `http:// → ${plain.status} ${location}`,
    );
  }

  const signup = await call('POST', '/api/accounts/signup', {
    email,
    password: options.password,
    name: 'Smoke Test',
  });
  if (!step('signup', signup.status === 202, `POST /api/accounts/signup (${email}) → ${signup.status}`))
    return steps;

  if (!options.mailDir && !options.mailboxCommand) {
    steps.push({
      name: 'mail → verify → login → revoke',
      outcome: 'skipped',
      detail:
        'no mailbox reader: pass --mailbox-command (prints the newest mail to $SMOKE_EMAIL) or --mail-dir to check mail delivery and sign-in',
    });
    return steps;
  }
  let token: string | undefined;
  const deadline = Date.now() + options.mailTimeoutMs;
  while (!token && Date.now() < deadline) {
    token = options.mailDir
      ? fromMailDir(options.mailDir, email)
      : await fromCommand(options.mailboxCommand ?? '', email);
    if (!token) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (
    !step(
      'mail',
      token !== undefined,
      token
        ? `verification mail to ${email} arrived`
        : `no mail with a token to ${email} within ${options.mailTimeoutMs / 1000}s`,
    )
  )
    return steps;

  const verify = await call('POST', '/api/accounts/verify-email', { token });
  if (!step('verify', verify.status === 200, `POST /api/accounts/verify-email → ${verify.status}`))
    return steps;

  const login = await call('POST', '/api/login', { email, password: options.password });
  const sessionToken: string | undefined = login.json?.token;
  if (!step('login', login.status === 200 && Boolean(sessionToken), `POST /api/login → ${login.status}`))
    return steps;

  const current = await call('GET', '/api/sessions/current', undefined, sessionToken);
  const sessionId: string | undefined = current.json?.session?.id;
  if (
    !step(
      'session',
      current.status === 200 && Boolean(sessionId),
      `GET /api/sessions/current → ${current.status}, ip ${current.json?.session?.ip ?? '?'}`,
    )
  )
    return steps;

  const revoke = await call('DELETE', `/api/sessions/${sessionId}`, undefined, sessionToken);
  if (!step('revoke', revoke.status === 204, `DELETE /api/sessions/${sessionId} → ${revoke.status}`))
    return steps;
  const after = await call('GET', '/api/sessions/current', undefined, sessionToken);
  step('revoked token refused', after.status === 401, `GET /api/sessions/current → ${after.status}`);
  return steps;
}

export function parseSmokeArgs(argv: string[]): SmokeOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      email: { type: 'string', default: 'smoke-{n}@example.com' },
      password: { type: 'string', default: `smoke test passphrase ${Date.now()}` },
      'mail-dir': { type: 'string' },
      'mailbox-command': { type: 'string' },
      'no-console': { type: 'boolean', default: false },
      'mail-timeout': { type: 'string', default: '120' },
    },
  });
  if (!values.url)
    throw new Error(
      'usage: npm run smoke -- --url https://app.example.com [--mailbox-command CMD | --mail-dir DIR] [--email a-{n}@x] [--no-console]',
    );
  return {
    url: values.url,
    email: values.email,
    password: values.password,
    ...(values['mail-dir'] ? { mailDir: values['mail-dir'] } : {}),
    ...(values['mailbox-command'] ? { mailboxCommand: values['mailbox-command'] } : {}),
    console: !values['no-console'],
    mailTimeoutMs: Number(values['mail-timeout']) * 1000,
  };
}

if (import.meta.main) {
  const steps = await runSmoke(parseSmokeArgs(process.argv.slice(2)));
  for (const s of steps)
    process.stdout.write(`${s.outcome.toUpperCase().padEnd(7)} ${s.name}: ${s.detail}\n`);
  process.exit(steps.some((s) => s.outcome === 'failed') ? 1 : 0);
}
