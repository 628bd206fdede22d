import { z } from 'zod';

/** A ceremony's challenge lives five minutes and is used once. */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
export const PASSKEY_NAME_MAX = 100;
export const DEFAULT_PASSKEY_NAME = 'Passkey';

/** The relying party: the RP ID is APP_URL's host, and assertions may come from any app origin. */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export function relyingParty(appUrl: string, appOrigins: string[]): RelyingParty {
  return { id: new URL(appUrl).hostname, name: 'SessionForge', origins: appOrigins };
}

export function challengeExpiry(now: Date): Date {
  return new Date(now.getTime() + CHALLENGE_TTL_MS);
}

/**
 * WebAuthn's clone signal (§6.1.1): when either counter is non-zero, the received one must be
 * greater than the stored one. A counter that stays or goes back means two authenticators share
 * the key: the assertion is refused. Authenticators that never count (both zero) pass.
 */
export function counterVerdict(stored: number, received: number): 'ok' | 'clone_suspected' {
  if ((stored > 0 || received > 0) && received <= stored) return 'clone_suspected';
  return 'ok';
}

/** What an org asks of a sudo window before its step-up routes (null: any step-up will do). */
export interface PasskeyPolicy {
  allowedAaguids: string[] | null;
}

/**
 * Whether a session's sudo window satisfies an org: without requirePasskey any method does; with
 * it, only a passkey step-up, and with allowedAaguids only one from an allowed authenticator model.
 */
export function stepUpSatisfies(
  policy: PasskeyPolicy | null,
  sudo: { method: string | null; aaguid: string | null },
): boolean {
  if (!policy) return true;
  if (sudo.method !== 'passkey') return false;
  if (policy.allowedAaguids === null) return true;
  return sudo.aaguid !== null && policy.allowedAaguids.includes(sudo.aaguid.toLowerCase());
}

export const aaguidSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)
  .transform((value) => value.toLowerCase());

export const aaguidListSchema = z.array(aaguidSchema).max(100);

export const passkeyNameSchema = z.string().trim().min(1).max(PASSKEY_NAME_MAX);

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}
