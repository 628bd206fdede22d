import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ErrorCode, Failure } from '../errors/codes.js';

/** The one map from failure code to HTTP status. */
export const statusOf: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  MFA_REQUIRED: 401,
  EMAIL_NOT_VERIFIED: 403,
  INSUFFICIENT_ROLE: 403,
  IP_NOT_ALLOWED: 403,
  STEP_UP_REQUIRED: 403,
  SSO_REQUIRED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

const defaultMessages: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'The request is not valid.',
  UNAUTHENTICATED: 'Sign in first.',
  INVALID_CREDENTIALS: 'The credentials are wrong.',
  MFA_REQUIRED: 'A second factor is required.',
  EMAIL_NOT_VERIFIED: 'Confirm your email address first.',
  INSUFFICIENT_ROLE: 'Your role does not allow this.',
  IP_NOT_ALLOWED: 'Your network address is not on this organization’s allowlist.',
  STEP_UP_REQUIRED: 'Confirm your identity again to continue.',
  SSO_REQUIRED: 'This organization requires single sign-on; sign in through its identity provider.',
  ORIGIN_NOT_ALLOWED: 'The session cookie is not accepted from this origin.',
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: 'This path does not take that method.',
  CONFLICT: 'The request conflicts with the current state.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'Send application/json.',
  RATE_LIMITED: 'Too many requests. Try again later.',
  INTERNAL: 'Something went wrong on our side.',
  UNAVAILABLE: 'The service is briefly unavailable; nothing was changed.',
};

export function errorPayload(failure: Failure): {
  status: number;
  body: unknown;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  let message = failure.message ?? defaultMessages[failure.code];
  if (failure.code === 'RATE_LIMITED' && failure.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(failure.retryAfterSeconds);
    message = `${failure.message ?? 'Too many attempts.'} ${tryAgainIn(failure.retryAfterSeconds)}`;
  }
  if (failure.code === 'UNAVAILABLE') {
    const seconds = failure.retryAfterSeconds ?? 1;
    headers['retry-after'] = String(seconds);
    message = `${message} ${tryAgainIn(seconds)}`;
  }
  if (failure.allow) headers.allow = failure.allow.join(', ');
  return {
    status: statusOf[failure.code],
    headers,
    body: {
      error: {
        ...failure.extra,
        code: failure.code,
        message,
        ...(failure.issues ? { issues: failure.issues } : {}),
      },
    },
  };
}

/**
 * A failure in RFC 7644 §3.12's error schema, for SCIM routes: `status` as a string, `scimType`
 * from the failure (`extra.scimType`) or, for a body that does not fit, `invalidValue`/`invalidSyntax`.
 */
export function scimErrorPayload(failure: Failure): {
  status: number;
  body: unknown;
  headers: Record<string, string>;
} {
  const plain = errorPayload(failure);
  const extraType = failure.extra?.scimType;
  const scimType =
    typeof extraType === 'string'
      ? extraType
      : failure.code === 'VALIDATION_FAILED'
        ? failure.issues?.some((i) => i.message === 'the body is not valid JSON')
          ? 'invalidSyntax'
          : 'invalidValue'
        : undefined;
  const message = (plain.body as { error: { message: string } }).error.message;
  const issues = failure.issues?.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)) ?? [];
  return {
    status: plain.status,
    headers: { ...plain.headers, 'content-type': 'application/scim+json; charset=utf-8' },
    body: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(plain.status),
      ...(scimType ? { scimType } : {}),
      detail: issues.length > 0 ? `${message} ${issues.join('; ')}` : message,
    },
  };
}

/**
 * When to come back, in words, from the Retry-After seconds. Rounded up, so nobody who follows
 * the words arrives before the slot is free: 720 s is "12 minutes", 721 s is "13 minutes".
 */
export function tryAgainIn(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 60) return `Try again in ${unit(whole, 'second')}.`;
  const minutes = Math.ceil(whole / 60);
  if (minutes < 60) return `Try again in ${unit(minutes, 'minute')}.`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `Try again in ${unit(hours, 'hour')}${rest ? ` and ${unit(rest, 'minute')}` : ''}.`;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string | string[]>,
): void {
  writeJson(res, status, body, {}, headers);
}

/**
 * Answers `body` as JSON with `first` (a fresh object the call may fill: the router's security
 * headers and request id), then the content type, `headers` and the length, in one writeHead.
 * Names are lower-cased so a header in `headers` replaces an earlier one as setHeader would (a
 * JSON media type of its own, application/scim+json, wins). Headers set on `res` beforehand are
 * kept: writeHead merges into them.
 */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  first: OutgoingHttpHeaders,
  headers?: Record<string, string | string[]>,
): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  if (payload) first['content-type'] = 'application/json; charset=utf-8';
  if (headers) for (const name in headers) first[name.toLowerCase()] = headers[name];
  first['content-length'] = Buffer.byteLength(payload);
  res.writeHead(status, first);
  res.end(payload);
}

/** A failure's message as one line, for routes that answer text/plain (route.ts `errorFormat`). */
export function errorText(failure: Failure): string {
  return failure.message ?? defaultMessages[failure.code];
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string | string[]> = {},
): void {
  const payload = `${text}\n`;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.statusCode = status;
  res.end(payload);
}
