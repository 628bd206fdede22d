import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { authorizeApiKey } from '../../../shared/http/auth.js';
import { statusOf } from '../../../shared/http/errors.js';
import { defineRoute, json, type Reply } from '../../../shared/http/route.js';
import { readAsciicast } from '../../../shared/recordings/asciinema.js';
import { parseFrames } from '../../../shared/recordings/model.js';
import { actorOf, type Deps } from '../deps.js';
import { multipartFile } from './multipart.js';

/**
 * The router's cap: the default RECORDING_MAX_BYTES plus multipart overhead. The configured
 * recording cap is judged in the handler, so the CLI gets a plain-text 413.
 */
export const ASCIINEMA_BODY_LIMIT_BYTES = 513 * 1024 * 1024;

/** Failures are one plain-text line, which is what the asciinema CLI can show. */
const plain = (status: number, message: string): Reply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  raw: Buffer.from(`${message}\n`, 'utf8'),
});

/**
 * asciinema 2.x prints a failure's body only for 400 ("upload failed: Invalid request: <body>")
 * and 422. For 413 its own words fit; for 401 it says "Invalid or revoked install ID", which does
 * not tell a user to put an sf_live_ key there; a 403 becomes "HTTP status: 403" and the reason is
 * lost. So the CLI itself (User-Agent `asciinema/…`) gets those refusals as a 400 it prints; every
 * other client keeps the real status.
 */
function refused(req: IncomingMessage, status: number, message: string): Reply {
  const cli = /^asciinema\//i.test(req.headers['user-agent'] ?? '');
  return plain(cli && (status === 401 || status === 403) ? 400 : status, message);
}

/** `Authorization: Basic base64(user:password)`; the password is asciinema's install id. */
function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export const asciinemaUpload = defineRoute({
  method: 'POST',
  path: '/api/recordings/asciinema/api/asciicasts',
  summary:
    'asciinema CLI upload: multipart `asciicast` file (v2, or v1 converted), HTTP Basic with an org API key (member+) as password.',
  tags: ['recordings'],
  // The key arrives as a Basic password, which the handler authorizes with authorizeApiKey.
  auth: { kind: 'none' },
  contentTypes: ['multipart/form-data'],
  bodyLimitBytes: ASCIINEMA_BODY_LIMIT_BYTES,
  body: z.instanceof(Buffer),
  responses: {
    201: { description: 'Stored and being archived', schema: z.object({ url: z.string() }) },
    400: { description: 'No `asciicast` file, or not an asciicast (text/plain)' },
    401: { description: 'No or invalid API key (text/plain; 400 to the asciinema CLI)' },
    403: {
      description:
        'A viewer key, or an address outside the allowlist (text/plain; 400 to the asciinema CLI, which prints only 400 bodies)',
    },
    413: { description: 'Over RECORDING_MAX_BYTES (text/plain)' },
  },
  handler: async ({ req, body, ip, now, log }, deps: Deps) => {
    const credentials = basicCredentials(req.headers.authorization);
    if (!credentials) {
      return refused(
        req,
        401,
        'Authentication required: put an org API key (sf_live_...) in your asciinema install-id.',
      );
    }
    const auth = await authorizeApiKey(
      deps.keyAuth,
      credentials.password,
      { kind: 'org', minRole: 'member' },
      { ip, now },
      true,
    );
    if (auth.ok === false) {
      const message =
        auth.code === 'UNAUTHENTICATED'
          ? 'Invalid API key: put a valid org API key (sf_live_...) in your asciinema install-id.'
          : auth.code === 'INSUFFICIENT_ROLE'
            ? 'This API key has the viewer role; uploading needs a key with the member role or higher.'
            : (auth.message ?? 'Not allowed.');
      return refused(req, statusOf[auth.code], message);
    }
    const orgId = auth.org?.orgId ?? '';
    const maxBytes = deps.platform.config.recordingMaxBytes;
    const file = await multipartFile(req.headers['content-type'] ?? '', body, 'asciicast');
    if (!file) return plain(400, 'The upload has no `asciicast` file field.');
    if (file.length > maxBytes) return plain(413, `The recording is too large: at most ${maxBytes} bytes.`);
    const cast = readAsciicast(file);
    if (!cast.ok) return plain(400, cast.message);
    const frames = parseFrames(cast.cast.events);
    if (!frames.ok)
      return plain(400, `The asciicast events are not valid: ${frames.issues[0]?.message ?? ''}`);

    const uploader = credentials.user.trim().slice(0, 100) || 'asciinema';
    const actor = actorOf(auth.principal);
    const title = `${cast.cast.title ?? 'asciinema upload'} (uploaded by ${uploader})`.slice(0, 200);
    const started = await deps.recordings.start(
      orgId,
      { title, width: cast.cast.width, height: cast.cast.height, machineId: `asciinema:${uploader}` },
      actor,
      ip,
      now,
    );
    const ingested = await deps.recordings.ingest(started.id, 0, frames.data, now);
    // Stopped either way, so a refused upload does not stay "recording" forever.
    const stopped = await deps.recordings.stop(started.id, actor, ip, now);
    if (ingested.ok === false) return plain(statusOf[ingested.code], ingested.message ?? 'Refused.');
    if (stopped.ok === false) return plain(statusOf[stopped.code], stopped.message ?? 'Refused.');
    log.info('asciinema upload stored', { recordingId: started.id, orgId, bytes: frames.data.length });
    const url = `${deps.platform.config.appUrl}/api/recordings/${started.id}/playback`;
    return json(201, { url });
  },
});
