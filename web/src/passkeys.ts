import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { api } from './api/client.js';

export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}

type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];

/** Creates a passkey on this device and registers it (the options call asks for a step-up first). */
export async function addPasskey(name?: string): Promise<Passkey> {
  const optionsJSON = await api<Parameters<typeof startRegistration>[0]['optionsJSON']>(
    'POST',
    '/api/passkeys/register/options',
  );
  const response = await startRegistration({ optionsJSON });
  return api<Passkey>('POST', '/api/passkeys/register/verify', name ? { response, name } : { response });
}

/** Signs in with any passkey of this site the browser offers (no email asked). */
export async function signInWithPasskey(): Promise<void> {
  const { challengeId, options } = await api<{ challengeId: string; options: Options }>(
    'POST',
    '/api/login/passkey/options',
    undefined,
    { anonymous: true },
  );
  const response = await startAuthentication({ optionsJSON: options });
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
