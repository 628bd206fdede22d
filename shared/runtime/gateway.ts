import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { runAsUnit } from '../bus/publishers.js';
import { subscriptions } from '../bus/topics.js';
import type { Config } from '../config/config.js';
import { fail } from '../errors/codes.js';
import { closeWhenAnswered } from '../http/body.js';
import { errorPayload, sendJson } from '../http/errors.js';
import { applySecurityHeaders } from '../http/headers.js';
import { normalizedPath } from '../http/path.js';
import type { Logger } from '../log/logger.js';
import { readMailbox, serveConsole } from './console.js';
import { DEV_PREFIX, type devRoutes, isLoopback } from './dev-routes.js';
import { loadRewrites, unitFor } from './rewrites.js';

type DevRoutes = ReturnType<typeof devRoutes>;

type HttpHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Every unit the runtime loads: HTTP units from the edge route table, consumers from the topic table. */
export function localUnits(): string[] {
  return [...new Set([...loadRewrites().map((r) => r.unit), ...subscriptions.map((s) => s.unit)])];
}

/**
 * Imports each unit's `functions/<unit>/index.ts`, which registers its handler with the Functions
 * Framework exactly as in production. A unit whose folder does not exist yet is reported and skipped.
 */
export async function loadUnits(logger: Logger, units = localUnits()): Promise<string[]> {
  const loaded: string[] = [];
  for (const unit of units) {
    const entry = new URL(`../../functions/${unit}/index.ts`, import.meta.url);
    if (!existsSync(entry)) {
      logger.warn('unit not present; its routes and topics are unavailable', { unit });
      continue;
    }
    await import(/* @vite-ignore */ entry.href);
    loaded.push(unit);
  }
  return loaded;
}

/** Embedded mode only (mail written to DATA_DIR/outbox): the local outbox for /dev/mailbox. */
export const MAILBOX_PATH = '/api/dev/mailbox';

/**
 * The local stand-in for the load balancer: one HTTP server that hands each request to the unit
 * the edge route table names, taking the handler from the Functions Framework's own registry, and
 * serves the console (web/dist, SPA fallback) on every path outside `/api`.
 */
export function createGateway(
  logger: Logger,
  config: Pick<Config, 'dataDir' | 'mail'>,
  dev?: DevRoutes,
): Server {
  const rewrites = loadRewrites();
  // The unit of each path seen (a pure function of the path), bounded so odd paths cannot grow it.
  const units = new Map<string, string | undefined>();
  const unitOf = (path: string): string | undefined => {
    if (units.has(path)) return units.get(path);
    const unit = unitFor(rewrites, path);
    if (units.size >= 4096) units.clear();
    units.set(path, unit);
    return unit;
  };
  return createServer((req, res) => {
    const path = normalizedPath(req.url ?? '/');
    const unit = path === null ? undefined : unitOf(path);
    // The console takes every path outside /api that no unit claims (/.well-known/security.txt is meta's).
    if (path !== null && path !== '/api' && !path.startsWith('/api/') && !unit) {
      serveConsole(req, res, path);
      return;
    }
    // Production mails through SMTP and its route table has no such path: the mailbox cannot exist
    // there. Locally it holds live tokens, so only this machine reads it, whatever HOST says.
    if (
      path === MAILBOX_PATH &&
      config.mail.transport === 'outbox-dir' &&
      req.method === 'GET' &&
      isLoopback(req.socket.remoteAddress)
    ) {
      applySecurityHeaders(res);
      req.resume();
      sendJson(res, 200, { messages: readMailbox(config.dataDir) });
      return;
    }
    if (dev && path?.startsWith(DEV_PREFIX)) {
      applySecurityHeaders(res);
      dev(req, res, path).catch((error: unknown) => {
        logger.error('gateway: dev route failed', { path, error });
        if (!res.headersSent) sendJson(res, 500, errorPayload(fail('INTERNAL')).body);
      });
      return;
    }
    const handler = unit ? (getFunction(unit) as HttpHandler | undefined) : undefined;
    if (!handler) {
      applySecurityHeaders(res);
      res.setHeader('x-request-id', randomUUID());
      const payload = errorPayload(fail('NOT_FOUND', 'No such route.'));
      closeWhenAnswered(req, res);
      sendJson(res, payload.status, payload.body);
      return;
    }
    Promise.resolve(runAsUnit(unit as string, () => handler(req, res))).catch((error: unknown) => {
      logger.error('gateway: handler failed', { unit, error });
      if (!res.headersSent) {
        closeWhenAnswered(req, res);
        sendJson(res, 500, errorPayload(fail('INTERNAL')).body);
      }
    });
  });
}

/**
 * Whether something already listens on host:port, found by binding it for a moment. `npm start`
 * asks before opening the database, so a second start says so instead of migrating first.
 */
export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  if (port === 0) return false;
  const probe = createServer();
  try {
    await listen(probe, port, host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
    throw error;
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return false;
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
