import { api } from './api/client.js';
import { SayableError } from './api/errors.js';

/**
 * "Sign in with Google / GitHub" through Firebase Auth's REST API, without the Firebase SDK: its
 * popup and redirect helpers load scripts and frames from Google, which the console's CSP
 * (`script-src 'self'`) refuses, and it would weigh more than the rest of the sign-in page.
 * createAuthUri gives the provider's authorization URL; the provider sends the browser back to
 * /login/provider, where signInWithIdp turns that answer into a Firebase ID token, which
 * POST /api/login/oauth exchanges for our session (the ID token is never stored).
 */
export type Provider = 'google.com' | 'github.com';
export interface FirebaseWeb {
  apiKey: string;
  providers: Provider[];
}

export const providerNames: Record<Provider, string> = { 'google.com': 'Google', 'github.com': 'GitHub' };
export const providerReturnPath = '/login/provider';
const TOOLKIT = 'https://identitytoolkit.googleapis.com/v1/accounts';
const PENDING = 'sf:provider-sign-in';

/** What the API says is configured; null (no buttons) when Firebase is not, or the API cannot say. */
export async function loadProviders(): Promise<FirebaseWeb | null> {
  try {
    const answer = await api<{ firebase: FirebaseWeb | null }>('GET', '/api/login/providers', undefined, {
      anonymous: true,
    });
    return answer.firebase;
  } catch {
    return null;
  }
}

async function toolkit<T>(apiKey: string, method: string, body: unknown, provider: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${TOOLKIT}:${method}?key=${encodeURIComponent(apiKey)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SayableError(`Cannot reach ${provider} sign-in. Check your connection and try again.`);
  }
  const answer = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!response.ok) {
    const reason = answer.error?.message ? ` (${answer.error.message})` : '';
    throw new SayableError(`${provider} sign-in did not finish${reason}. Try again from the sign-in page.`);
  }
  return answer;
}

/** Sends the browser to the provider; it comes back to /login/provider. */
export async function startProviderSignIn(
  config: FirebaseWeb,
  provider: Provider,
  next: string,
): Promise<void> {
  const name = providerNames[provider];
  const { authUri, sessionId } = await toolkit<{ authUri: string; sessionId: string }>(
    config.apiKey,
    'createAuthUri',
    { providerId: provider, continueUri: `${location.origin}${providerReturnPath}` },
    name,
  );
  // Firebase's sessionId binds the provider's answer to this tab's request (not a credential: it
  // is useless without the provider's one-time answer); it is removed as soon as the tab is back.
  sessionStorage.setItem(PENDING, JSON.stringify({ sessionId, apiKey: config.apiKey, provider, next }));
  location.assign(authUri);
}

/** Back from the provider: the Firebase ID token for POST /api/login/oauth, and where to go next. */
export async function finishProviderSignIn(): Promise<{ idToken: string; next: string; provider: string }> {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  const pending = raw
    ? (JSON.parse(raw) as { sessionId: string; apiKey: string; provider: Provider; next: string })
    : null;
  if (!pending) {
    throw new SayableError(
      'This sign-in was not started in this tab, or it already finished. Start again from the sign-in page.',
    );
  }
  const name = providerNames[pending.provider] ?? 'Provider';
  const { idToken } = await toolkit<{ idToken?: string }>(
    pending.apiKey,
    'signInWithIdp',
    { requestUri: location.href, sessionId: pending.sessionId, returnSecureToken: true },
    name,
  );
  if (!idToken)
    throw new SayableError(`${name} did not confirm who you are. Try again from the sign-in page.`);
  return { idToken, next: pending.next, provider: name };
}
