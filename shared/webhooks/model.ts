import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { orgActions } from '../audit/actions.js';
import { DAY_MS } from '../time/clock.js';
import type { WebhookFormat, WebhookPayload } from './tables.js';

export const webhookFormats = [
  'standard',
  'splunk-hec',
  'datadog',
  'sumo',
] as const satisfies WebhookFormat[];

/**
 * Sign-in and session events of the account chains that an org also receives, when they belong to
 * it: the session is bound to the org or acts in it, or the account is of a domain it verified.
 */
export const orgSignInEvents = [
  'login.succeeded',
  'login.failed',
  'login.new_device',
  'login.country_changed',
  'login.impossible_travel',
  'login.confirmed',
  'login.denied',
  'auth_session.revoked',
  'step_up.succeeded',
  'step_up.failed',
  'password.changed',
  'password.reset',
  'mfa.enrolled',
  'mfa.disabled',
  'passkey.registered',
  'passkey.removed',
  'passkey.clone_suspected',
] as const;

/** Every type an endpoint may ask for; `webhook.test` is what the test button sends. */
export const webhookEventTypes = [...new Set([...orgActions, ...orgSignInEvents, 'webhook.test'])];

export const eventsField = z
  .array(z.union([z.literal('*'), z.enum(webhookEventTypes as [string, ...string[]])]))
  .min(1, { error: 'Name at least one event type, or "*" for all of them.' })
  .max(100)
  .transform((events) => (events.includes('*') ? ['*'] : [...new Set(events)].sort()));

/** Whether an endpoint that asked for `events` receives an event of `type`. */
export function wantsEvent(events: readonly string[], type: string): boolean {
  return events.includes('*') || events.includes(type);
}

/**
 * Provider tokens travel in these headers. The names we set ourselves (signature, length, host…)
 * cannot be overridden: a header would otherwise replace the signature the receiver checks.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'accept-encoding',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'user-agent',
]);

export const headersField = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, {
        error: 'A header name is letters, digits and - (at most 64).',
      })
      .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), {
        error: 'This header is set by SessionForge itself and cannot be replaced.',
      }),
    z
      .string()
      .min(1)
      .max(2048)
      .regex(/^[\t\x20-\x7e]*$/, { error: 'A header value is printable ASCII on one line.' }),
  )
  .refine((headers) => Object.keys(headers).length <= 10, { error: 'At most 10 headers.' });

/**
 * The endpoint URL: absolute http(s), no credentials in it (they would be shown back and logged),
 * no fragment. Whether plain http and private addresses are allowed is the outbound client's call.
 */
export const urlField = z
  .string()
  .trim()
  .max(2048)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
      } catch {
        return false;
      }
    },
    { error: 'Give an absolute https:// URL without a user name or password in it.' },
  );

/** Standard Webhooks secret: `whsec_` and base64 of 32 random bytes (the spec asks for 24 to 64). */
export function newWebhookSecret(random: (n: number) => Buffer = randomBytes): string {
  return `whsec_${random(32).toString('base64')}`;
}

/** How long a rotated-out secret still signs, so receivers can switch without dropping deliveries. */
export const PREVIOUS_SECRET_TTL_MS = DAY_MS;

/** API.md: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after attempts 1…7; then the delivery failed. */
export const RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
] as const;

/** An endpoint whose deliveries have failed without a success for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * DAY_MS;

/** What an attempt's answer means: network errors, 408, 429 and 5xx are retried; other 4xx are final. */
export function attemptVerdict(responseStatus: number | null): 'delivered' | 'retry' | 'fail' {
  if (responseStatus === null) return 'retry';
  if (responseStatus >= 200 && responseStatus < 300) return 'delivered';
  if (responseStatus === 408 || responseStatus === 429 || responseStatus >= 500) return 'retry';
  return 'fail';
}

/** When attempt number `attempt` (1-based, just made) failed retryably: the next try, or null when out of tries. */
export function nextAttemptAt(attempt: number, now: Date): Date | null {
  const delay = RETRY_DELAYS_MS[attempt - 1];
  return delay === undefined ? null : new Date(now.getTime() + delay);
}

/** Whether an endpoint failing since `failingSince` has now failed long enough to be disabled. */
export function shouldDisable(failingSince: Date | null, now: Date): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS;
}

export interface WireRequest {
  body: string;
  contentType: string;
}

/**
 * The request body each format sends, per the provider's documented intake:
 * - standard: the Standard Webhooks body `{type, timestamp, data}`.
 * - splunk-hec: HTTP Event Collector `/services/collector/event`: `{time (epoch seconds), host,
 *   source, sourcetype, event}`.
 * - datadog: Logs intake `/api/v2/logs`: a JSON array of entries with `ddsource`, `service`,
 *   `hostname`, `message` and the event as attributes.
 * - sumo: an HTTP Logs source: one JSON object a line (newline-delimited).
 */
export function wireBody(
  format: WebhookFormat,
  webhookId: string,
  payload: WebhookPayload,
  host: string,
): WireRequest {
  const event = { webhookId, type: payload.type, timestamp: payload.timestamp, ...payload.data };
  switch (format) {
    case 'standard':
      return { body: JSON.stringify(payload), contentType: 'application/json' };
    case 'splunk-hec':
      return {
        body: JSON.stringify({
          time: Date.parse(payload.timestamp) / 1000,
          host,
          source: 'sessionforge',
          sourcetype: '_json',
          event,
        }),
        contentType: 'application/json',
      };
    case 'datadog':
      return {
        body: JSON.stringify([
          {
            ddsource: 'sessionforge',
            ddtags: `event_type:${payload.type}`,
            hostname: host,
            service: 'sessionforge',
            message: payload.type,
            ...event,
          },
        ]),
        contentType: 'application/json',
      };
    case 'sumo':
      return { body: `${JSON.stringify(event)}\n`, contentType: 'application/x-ndjson' };
  }
}

/** API.md: 10 s for the whole exchange, 64 KiB of the answer read (the rest is not), no redirects. */
export const WEBHOOK_OUTBOUND = {
  timeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  maxResponseBytes: 64 * 1024,
  overflow: 'truncate',
} as const;
