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

/** asciinema prints a failed upload's body as is, so errors are one plain-text line. */
const plain = (status: number, message: string): Reply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  raw: Buffer.from(`${message}\n`, 'utf8'),
});

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
    401: { description: 'No or invalid API key (text/plain)' },
    413: { description: 'Over RECORDING_MAX_BYTES (text/plain)' },
  },
  handler: async ({ req, body, ip, now, log }, deps: Deps) => {
    const credentials = basicCredentials(req.headers.authorization);
    if (!credentials) {
      return plain(
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
          : (auth.message ?? 'Not allowed.');
      return plain(statusOf[auth.code], message);
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
