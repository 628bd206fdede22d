/**
 * The closed list of failure codes (API.md "Errors"). Domains return them as values; the HTTP
 * edge maps each to its status in one place (shared/http/errors.ts).
 */
export const errorCodes = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'MFA_REQUIRED',
  'EMAIL_NOT_VERIFIED',
  'INSUFFICIENT_ROLE',
  'IP_NOT_ALLOWED',
  'STEP_UP_REQUIRED',
  'SSO_REQUIRED',
  'ORIGIN_NOT_ALLOWED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'INTERNAL',
  'UNAVAILABLE',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface Issue {
  path: string;
  message: string;
}

/** An expected failure, returned (never thrown) by domain code. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  message?: string;
  issues?: Issue[];
  retryAfterSeconds?: number;
  /** METHOD_NOT_ALLOWED: the methods the path does take (the `Allow` header). */
  allow?: string[];
  /** Extra fields placed in the error object (e.g. `mfaToken`). */
  extra?: Record<string, unknown>;
}

export type Result<T> = ({ ok: true } & T) | Failure;

export function fail(
  code: ErrorCode,
  message?: string,
  more: Omit<Failure, 'ok' | 'code' | 'message'> = {},
): Failure {
  return { ok: false, code, ...(message ? { message } : {}), ...more };
}
