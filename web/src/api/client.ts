import { ApiError, toApiError } from './errors.js';

export { ApiError } from './errors.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Asked when the API answers STEP_UP_REQUIRED: shows the step-up dialog and resolves true once
 * the user confirmed (the session then has its sudo window), false if they cancelled.
 */
let stepUpPrompt: ((error: ApiError) => Promise<boolean>) | null = null;
/**
 * Called on 401 UNAUTHENTICATED for calls that need a session: sign in, then come back. The API
 * says how a real session ended (`reason`: revoked or expired), which the sign-in page puts in words.
 */
let onSignedOut: ((ended: SessionEnd | undefined) => void) | null = null;

/** How a session ended, as the API's 401 says it. */
export type SessionEnd = 'revoked' | 'expired';

export function sessionEnd(error: ApiError): SessionEnd | undefined {
  const reason = error.extra.reason;
  return reason === 'revoked' || reason === 'expired' ? reason : undefined;
}

export function setStepUpPrompt(prompt: typeof stepUpPrompt): void {
  stepUpPrompt = prompt;
}
export function setSignedOutHandler(handler: typeof onSignedOut): void {
  onSignedOut = handler;
}

export interface CallOptions {
  /** Public pages (sign-in, sign-up…) handle 401 themselves instead of going to /login. */
  anonymous?: boolean;
}

/**
 * The one way the console talks to the API: same origin, the HttpOnly session cookie (never a
 * token in JavaScript storage), JSON in and out. Any action answered with STEP_UP_REQUIRED is
 * retried once after the user steps up, whatever the action is.
 */
export async function api<T>(
  method: Method,
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<T> {
  const first = await send(method, path, body);
  if (first instanceof ApiError && first.code === 'STEP_UP_REQUIRED' && stepUpPrompt) {
    if (await stepUpPrompt(first)) {
      const again = await send(method, path, body);
      if (again instanceof ApiError) throw again;
      return again as T;
    }
  }
  if (first instanceof ApiError) {
    if (first.code === 'UNAUTHENTICATED' && !options.anonymous) onSignedOut?.(sessionEnd(first));
    throw first;
  }
  return first as T;
}

async function send(method: Method, path: string, body: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return new ApiError(0, 'NETWORK', '');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) return toApiError(response.status, parsed, response.headers.get('retry-after'));
  return parsed;
}
