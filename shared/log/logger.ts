import { writeSync } from 'node:fs';

/**
 * Structured JSON logs in the shape Cloud Logging reads from stdout: `severity`, `message`, and
 * any context fields (requestId, orgId, ...). Never pass a token, password, key or mail body.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

const rank: Record<Severity, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };
const threshold: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** One answered request, as the router's access line records it. */
export interface AccessEntry {
  method: string | undefined;
  path: string;
  status: number;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /**
   * The access line of one request (INFO, message `request`, this logger's fields plus method,
   * path and status): the same JSON `info('request', entry)` writes, built without the general
   * path's object spread and replacer, since it runs on every request.
   */
  access(entry: AccessEntry): void;
}

export type LogSink = (line: string) => void;

/**
 * A sink that hands lines to `write` in batches: lines gather for up to `maxDelayMs` (or until
 * `maxBytes` are pending) and go out in one write, so a busy server makes one write syscall per
 * batch instead of one per request. Lines still pending when the process exits are written
 * synchronously to `exitFd`, so a last error before `process.exit` is not lost.
 */
export function batchedSink(
  write: (chunk: string) => void,
  exitFd: number | null = null,
  { maxDelayMs = 25, maxBytes = 64 * 1024 }: { maxDelayMs?: number; maxBytes?: number } = {},
): LogSink {
  let pending: string[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const take = () => {
    const chunk = `${pending.join('\n')}\n`;
    pending = [];
    pendingBytes = 0;
    if (timer) clearTimeout(timer);
    timer = undefined;
    return chunk;
  };
  const flush = () => {
    if (pending.length > 0) write(take());
  };
  if (exitFd !== null) {
    process.once('exit', () => {
      if (pending.length === 0) return;
      try {
        writeSync(exitFd, take());
      } catch {
        // stdout already gone: nothing left to tell.
      }
    });
  }
  return (line) => {
    pending.push(line);
    pendingBytes += line.length + 1;
    if (pendingBytes >= maxBytes) flush();
    else if (!timer) {
      timer = setTimeout(flush, maxDelayMs);
      // Pending lines do not keep the process alive; the exit hook writes them.
      if (exitFd !== null) timer.unref();
    }
  };
}

let stdoutSink: LogSink | undefined;

/** The process's stdout, batched (one sink per process, so lines keep their order). */
function defaultSink(): LogSink {
  stdoutSink ??= batchedSink((chunk) => process.stdout.write(chunk), 1);
  return stdoutSink;
}

// One ISO timestamp per millisecond: at thousands of lines a second most lines share one.
let lastMs = -1;
let lastIso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

class JsonLogger implements Logger {
  /** `base` as JSON members (`,"k":v...`, '' when empty) for access lines; built on first use. */
  private baseMembers: string | undefined;

  constructor(
    private readonly level: number,
    private readonly sink: LogSink,
    private readonly base: LogFields,
  ) {}

  private write(severity: Severity, message: string, fields?: LogFields): void {
    if (rank[severity] < this.level) return;
    this.sink(JSON.stringify({ severity, message, time: isoNow(), ...this.base, ...fields }, errorReplacer));
  }

  debug(message: string, fields?: LogFields): void {
    this.write('DEBUG', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('INFO', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('WARNING', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('ERROR', message, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger(this.level, this.sink, { ...this.base, ...fields });
  }
  access(entry: AccessEntry): void {
    if (rank.INFO < this.level) return;
    if (this.baseMembers === undefined) {
      const json = JSON.stringify(this.base, errorReplacer);
      this.baseMembers = json.length > 2 ? `,${json.slice(1, -1)}` : '';
    }
    // Only the path comes from the client; the method is one the HTTP parser accepted.
    const method = entry.method === undefined ? '' : `,"method":${JSON.stringify(entry.method)}`;
    this.sink(
      `{"severity":"INFO","message":"request","time":"${isoNow()}"${this.baseMembers}${method},"path":${JSON.stringify(entry.path)},"status":${entry.status | 0}}`,
    );
  }
}

export function createLogger(level: LogLevel, sink: LogSink = defaultSink(), base: LogFields = {}): Logger {
  return new JsonLogger(threshold[level], sink, base);
}

/** Errors become {name, message, stack} in logs (never in responses). */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger that keeps its lines, for tests that assert something was logged. */
export function memoryLogger(): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger('debug', (line) => lines.push(JSON.parse(line) as LogFields));
  return Object.assign(logger, { lines });
}
