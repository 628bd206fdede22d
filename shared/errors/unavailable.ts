import { type Failure, fail } from './codes.js';

/** How long a client should wait before retrying a request a dependency outage refused. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/**
 * A dependency (object storage, the rate-limit store, …) did not answer. Thrown, not returned:
 * the caller cannot do anything about it, and the HTTP edge answers 503 UNAVAILABLE.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, options);
    this.name = 'DependencyUnavailableError';
  }
}

// Socket-level failures: the peer is gone, refusing, or unreachable.
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

// PostgreSQL SQLSTATEs for a server going away or refusing connections for now: class 08
// (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now) and 53300 (too many
// connections). Anything else (constraint violations, syntax) is a bug or a conflict, not an outage.
const postgresStates = /^(08\d{3}|57P0[123]|53300)$/;

// node-postgres reports a dropped connection or an exhausted connect timeout in words, without a code.
const postgresMessages =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect|Query read timeout)/;

/**
 * True when `error` (or its cause) says a dependency is down rather than that the request or the
 * code is wrong. Such a request wrote nothing that committed: the database rolls back a
 * transaction whose connection died, so the client may simply retry.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  if (error instanceof DependencyUnavailableError) return true;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (networkCodes.has(code) || postgresStates.test(code))) return true;
  if (typeof message === 'string' && postgresMessages.test(message)) return true;
  // Node's connect to several addresses fails with an AggregateError of the attempts.
  if (Array.isArray(errors) && errors.some((e) => isDependencyUnavailable(e, depth + 1))) return true;
  return isDependencyUnavailable(cause, depth + 1);
}

/** The answer to a request that a dependency outage stopped. */
export function unavailable(): Failure {
  return fail('UNAVAILABLE', undefined, { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS });
}
