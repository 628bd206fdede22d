import {
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';
import { api } from './api/client.js';

export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}

type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];

/** Registers a new passkey; the registration code downloads on first use. */
export async function addPasskey(name?: string): Promise<Passkey> {
  return (await import('./passkey-registration.js')).addPasskey(name);
}

/**
 * Signs in with any passkey of this site the browser offers (no email asked). With `autofill`
 * the browser offers them in the username field's autofill list (conditional mediation) instead
 * of a dialog, and the call waits until one is picked or the ceremony is cancelled.
 */
export async function signInWithPasskey({ autofill = false } = {}): Promise<void> {
  const { challengeId, options } = await api<{ challengeId: string; options: Options }>(
    'POST',
    '/api/login/passkey/options',
    undefined,
    { anonymous: true },
  );
  const response = await startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill });
  await api('POST', '/api/login/passkey/verify', { challengeId, response }, { anonymous: true });
}

/** Steps the current session up with one of the account's passkeys. */
export async function stepUpWithPasskey(): Promise<void> {
  const { challengeId, options } = await api<{ challengeId: string; options: Options }>(
    'POST',
    '/api/sessions/step-up/passkey/options',
  );
  const passkey = await startAuthentication({ optionsJSON: options });
  await api('POST', '/api/sessions/step-up', { challengeId, passkey });
}

/** Whether this browser can list passkeys in a field's autofill (conditional mediation). */
export const supportsPasskeyAutofill = browserSupportsWebAuthnAutofill;

/** Ends a pending passkey ceremony (the autofill offer) when the sign-in page goes away. */
export function cancelPasskeyCeremony(): void {
  WebAuthnAbortService.cancelCeremony();
}

/** A ceremony ended because another began or the page left: not an error to show. */
export function isCeremonyAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
