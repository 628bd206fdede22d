import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeEnvelope } from '../bus/envelope.js';
import { schedules, type Topic } from '../bus/topics.js';
import { fail } from '../errors/codes.js';
import { errorPayload, sendJson } from '../http/errors.js';
import { methodNotAllowed } from '../http/router.js';
import { PostgresRateLimitStore } from '../ratelimit/postgres-store.js';
import type { Platform } from './platform.js';

/** Where the embedded-only routes live; firebase.json has no rewrite for it, so Hosting never reaches them. */
export const DEV_PREFIX = '/api/dev/';

/**
 * Embedded-only helpers for trying things out locally, answered by the local gateway itself:
 * - `POST /api/dev/run/<topic>` publishes a scheduled topic now, as `gcloud scheduler jobs run`
 *   does (e.g. `audit-checkpoint` signs checkpoints instead of waiting for the hour), and answers
 *   once every delivery it caused has run;
 * - `POST /api/dev/reset-limits` drops every rate-limit window (login, step-up, …) and clears
 *   MFA lockouts.
 * Only callers on this machine (a loopback socket address) are served, whatever HOST says.
 */
export function devRoutes(p: Platform) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    req.resume();
    const answer = await devAnswer(p, req, path);
    if ('ok' in answer) {
      const payload = errorPayload(answer);
      sendJson(res, payload.status, payload.body, payload.headers);
    } else sendJson(res, 200, answer);
  };
}

const scheduledTopics = new Set<string>(schedules.map((s) => s.topic));

async function devAnswer(p: Platform, req: IncomingMessage, path: string) {
  if (!isLoopback(req.socket.remoteAddress)) return fail('NOT_FOUND', 'No such route.');
  const name = path.slice(DEV_PREFIX.length);
  const topic = name.startsWith('run/') ? name.slice('run/'.length) : null;
  if (name !== 'reset-limits' && !(topic && scheduledTopics.has(topic))) {
    return fail(
      'NOT_FOUND',
      `No such route; try ${DEV_PREFIX}reset-limits or ${DEV_PREFIX}run/<scheduled topic>.`,
    );
  }
  if (req.method !== 'POST') return methodNotAllowed(req.method, ['POST']);
  if (topic) {
    await p.publisher.publish(topic as Topic, makeEnvelope(topic as Topic, {}, p.clock.now()));
    await p.localBus?.idle();
    // What the consumers queued in turn (mail, revocations) is delivered before answering too.
    await p.relay.drain();
    await p.localBus?.idle();
    return { ran: topic };
  }
  if (p.config.fastStateStore !== 'postgres') {
    return fail('CONFLICT', 'Limits live in Firestore here (FAST_STATE_STORE=firestore); reset them there.');
  }
  const windowsDropped = await new PostgresRateLimitStore(p.db).clear();
  // The MFA lockout (five wrong codes) is per user and lives with the credential, not in a window.
  const unlocked = await p.db
    .updateTable('mfa_totp')
    .set({ failed_attempts: 0, locked_until: null })
    .where((eb) => eb.or([eb('locked_until', 'is not', null), eb('failed_attempts', '>', 0)]))
    .executeTakeFirst();
  return { windowsDropped, mfaLockoutsCleared: Number(unlocked.numUpdatedRows) };
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}
