import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MailMessage, mailMessageSchema } from '../bus/topics.js';
import { securityHeaders } from '../http/headers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const consoleSourceDir = join(root, 'web');
export const consoleDistDir = join(root, 'web', 'dist');

/**
 * The console's page policy (also set by the load balancer, infra/edge.tf): scripts and styles only from our
 * origin, no inline code, no plugins, no <base> rewriting, never framed. connect-src admits the
 * bucket host because deployed playback URLs are signed Cloud Storage URLs, and Firebase Auth's
 * REST API (Google/GitHub sign-in, no SDK and no third-party script). 'wasm-unsafe-eval'
 * lets the recording player compile its terminal emulator (WebAssembly); it allows no JavaScript
 * eval and no inline script.
 */
export const consoleCsp = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' https://storage.googleapis.com https://identitytoolkit.googleapis.com",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers for console files: the API's hardening, a page CSP, and caching only for hashed assets. */
export function consoleHeaders(path: string): Record<string, string> {
  const hashedAsset = path.startsWith('/assets/');
  return {
    ...securityHeaders,
    'content-security-policy': consoleCsp,
    'referrer-policy': 'same-origin',
    'cache-control': hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The file a console path names inside web/dist, or index.html (the SPA fallback). */
export function consoleFile(path: string, dist = consoleDistDir): string {
  const candidate = resolve(dist, `.${path}`);
  if (candidate.startsWith(dist + sep) && existsSync(candidate) && statSync(candidate).isFile())
    return candidate;
  return join(dist, 'index.html');
}

/** Serves GET/HEAD of every non-`/api` path from web/dist, as the console bucket does in production. */
export function serveConsole(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  dist = consoleDistDir,
): void {
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, {
      allow: 'GET, HEAD',
      'content-type': 'text/plain; charset=utf-8',
      ...securityHeaders,
    });
    res.end('Method not allowed');
    return;
  }
  const file = consoleFile(path, dist);
  if (!existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
    res.end('The console is not built yet: run `npm run build:web`.');
    return;
  }
  const servedPath = file.endsWith(`${sep}index.html`) ? '/index.html' : path;
  const body = readFileSync(file);
  res.writeHead(200, {
    ...consoleHeaders(servedPath),
    'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
    'content-length': String(body.length),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when web/dist is missing or older than any console source (web/src, index.html, config, shared). */
export function consoleIsStale(): boolean {
  const built = join(consoleDistDir, 'index.html');
  if (!existsSync(built)) return true;
  const sources = [
    join(consoleSourceDir, 'src'),
    join(consoleSourceDir, 'index.html'),
    join(consoleSourceDir, 'vite.config.ts'),
    join(root, 'shared', 'errors'),
  ];
  const newestSource = Math.max(...sources.filter(existsSync).map(newestMtime));
  return newestSource > statSync(built).mtimeMs;
}

/**
 * Builds the console when missing or stale, so `npm start` needs nothing extra. A lock directory
 * keeps concurrent starters (parallel test workers) from building over each other.
 */
export async function ensureConsoleBuilt(log: (message: string) => void = () => {}): Promise<void> {
  if (!consoleIsStale()) return;
  const lock = join(consoleSourceDir, '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!consoleIsStale()) return;
    log('building the web console (web/dist)');
    const { build } = await import('vite');
    await build({ configFile: join(consoleSourceDir, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The local outbox (embedded mode), newest first: what /dev/mailbox shows. */
export function readMailbox(dataDir: string): Array<MailMessage & { id: string; sentAt: string }> {
  const dir = join(dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      const parsed = mailMessageSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      if (!parsed.success) return [];
      return [
        {
          ...parsed.data,
          id: file.replace(/\.json$/, ''),
          sentAt: statSync(join(dir, file)).mtime.toISOString(),
        },
      ];
    })
    .sort((a, b) => (a.sentAt < b.sentAt ? 1 : a.sentAt > b.sentAt ? -1 : b.id.localeCompare(a.id)));
}
