import { type ErrorCode, errorCodes, type Issue } from '../../../shared/errors/codes.js';

/**
 * What the console says for each code of the API's closed list. Keyed by string so codes the API
 * adds later still render (with the server's message) until they get words here.
 */
export const errorWords: Record<string, string> = {
  VALIDATION_FAILED: 'Some fields need attention.',
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
  INVALID_CREDENTIALS: 'The email or password is wrong.',
  MFA_REQUIRED: 'Enter the code from your authenticator app.',
  EMAIL_NOT_VERIFIED: 'Confirm your email address first: follow the link we sent you.',
  SSO_REQUIRED: 'Your organization requires single sign-on.',
  ORIGIN_NOT_ALLOWED:
    'This page’s address is not one the API accepts the session from; open the console at its own address.',
  INSUFFICIENT_ROLE: 'Your role in this organization does not allow this.',
  IP_NOT_ALLOWED: 'Your network address is not on this organization’s allowlist.',
  STEP_UP_REQUIRED: 'Confirm it is you to continue.',
  NOT_FOUND: 'Not found, or it no longer exists.',
  METHOD_NOT_ALLOWED: 'That action is not available here.',
  CONFLICT: 'That conflicts with the current state.',
  PAYLOAD_TOO_LARGE: 'That is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'The console sent something the API does not accept.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  INTERNAL: 'Something went wrong on our side. Try again.',
  UNAVAILABLE: 'The service is briefly unavailable; nothing was changed. Try again shortly.',
  NETWORK: 'Cannot reach the server. Check your connection.',
};

const known = new Set<string>(errorCodes);

/** A failed API call: the code from the closed list, the server's words and any field issues. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'NETWORK',
    message: string,
    readonly issues: Issue[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The sentence shown next to the action: our words for the code, then the server's detail. */
  get words(): string {
    const base = errorWords[this.code] ?? errorWords.INTERNAL!;
    if (this.code === 'RATE_LIMITED' && typeof this.extra.retryAfter === 'number') {
      return `${base} (about ${this.extra.retryAfter} s)`;
    }
    return this.message && this.message !== base ? `${base} ${this.message}` : base;
  }

  /** The message for one field (by its name in the request body), from the API's `issues`. */
  fieldIssue(field: string): string | undefined {
    return this.issues.find(
      (i) => i.path === field || i.path.startsWith(`${field}.`) || i.path.startsWith(`${field}[`),
    )?.message;
  }
}

/** Reads the API's error body; an unknown code (or no JSON) is treated as INTERNAL. */
export function toApiError(status: number, body: unknown, retryAfter: string | null): ApiError {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const rawCode = typeof error?.code === 'string' ? error.code : 'INTERNAL';
  const code = (known.has(rawCode) || rawCode in errorWords ? rawCode : 'INTERNAL') as ErrorCode;
  const message = typeof error?.message === 'string' ? error.message : '';
  const issues = Array.isArray(error?.issues) ? (error.issues as Issue[]) : [];
  const extra: Record<string, unknown> = { ...error };
  if (retryAfter && /^\d+$/.test(retryAfter)) extra.retryAfter = Number(retryAfter);
  return new ApiError(status, code, message, issues, extra);
}

/** A failure outside our API (a provider's sign-in, the browser) whose message is already in words. */
export class SayableError extends Error {
  get words(): string {
    return this.message;
  }
}
