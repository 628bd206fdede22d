import { startRegistration } from '@simplewebauthn/browser';
import { api } from './api/client.js';
import type { Passkey } from './passkeys.js';

/**
 * Creates a passkey on this device and registers it (the options call asks for a step-up first).
 * Its own module so the registration half of the WebAuthn helper loads only when someone adds one.
 */
export async function addPasskey(name?: string): Promise<Passkey> {
  const optionsJSON = await api<Parameters<typeof startRegistration>[0]['optionsJSON']>(
    'POST',
    '/api/passkeys/register/options',
  );
  const response = await startRegistration({ optionsJSON });
  return api<Passkey>('POST', '/api/passkeys/register/verify', name ? { response, name } : { response });
}
