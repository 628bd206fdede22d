import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { type Failure, fail } from '../../../shared/errors/codes.js';
import { basicCredentials } from '../../../shared/http/auth.js';
import { PLATFORM_BODY_LIMIT_BYTES, tooLarge } from '../../../shared/http/body.js';
import { errorText, statusOf } from '../../../shared/http/errors.js';
import { requireOrg } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { type CastHeader, streamAsciicast } from '../../../shared/recordings/asciinema.js';
import { actorOf, type Deps } from '../deps.js';
import { type MultipartOutcome, streamMultipartFile } from './multipart.js';

/**
 * The most one upload request may carry: what a deployed unit receives at all (Cloud Run's 32 MiB
 * request cap), locally too, so an upload that works locally works deployed. Longer sessions
 * stream as frames (4 MiB a request, RECORDING_MAX_BYTES in all).
 */
export const ASCIINEMA_UPLOAD_LIMIT_BYTES = PLATFORM_BODY_LIMIT_BYTES;

function refusal(upload: MultipartOutcome<Failure | null>): Failure | null {
  switch (upload.kind) {
    case 'file':
      return upload.value;
    case 'missing':
      return fail('VALIDATION_FAILED', 'The upload has no `asciicast` file field.');
    case 'malformed':
      return fail('VALIDATION_FAILED', 'The upload is not a complete multipart/form-data body.');
    case 'too_large':
      return tooLarge(ASCIINEMA_UPLOAD_LIMIT_BYTES, 'The upload');
  }
}

/**
 * asciinema 2.x prints a failure's body only for 400 ("upload failed: Invalid request: <body>")
 * and 422. For 413 its own words fit; for 401 it says "Invalid or revoked install ID", which does
 * not tell a user to put an sf_live_ key there; a 403 becomes "HTTP status: 403" and the reason is
 * lost. So the CLI itself (User-Agent `asciinema/…`) gets those refusals as a 400 it prints; every
 * other client keeps the real status.
 */
export function cliRefusal(failure: Failure, req: IncomingMessage): { status: number; message: string } {
  const status = statusOf[failure.code];
  const message =
    failure.code === 'UNAUTHENTICATED'
      ? basicCredentials(req)
        ? 'Invalid API key: put a valid org API key (sf_live_...) in your asciinema install-id.'
        : 'Authentication required: put an org API key (sf_live_...) in your asciinema install-id.'
      : failure.code === 'INSUFFICIENT_ROLE'
        ? 'This API key has the viewer role; uploading needs a key with the member role or higher.'
        : errorText(failure);
  const cli = /^asciinema\//i.test(req.headers['user-agent'] ?? '');
  return { status: cli && (status === 401 || status === 403) ? 400 : status, message };
}

export const asciinemaUpload = defineRoute({
  method: 'POST',
  path: '/api/recordings/asciinema/api/asciicasts',
  summary:
    'asciinema CLI upload: multipart `asciicast` file (v2, or v1 converted), HTTP Basic with an org API key (member+) as password; at most 32 MiB a request.',
  tags: ['recordings'],
  auth: { kind: 'basic_key', minRole: 'member' },
  contentTypes: ['multipart/form-data'],
  bodyLimitBytes: ASCIINEMA_UPLOAD_LIMIT_BYTES,
  streamsBody: true,
  // asciinema prints a failed upload's body as is, so errors are one plain-text line.
  errorFormat: 'text',
  textError: cliRefusal,
  responses: {
    201: { description: 'Stored and being archived', schema: z.object({ url: z.string() }) },
    400: { description: 'No `asciicast` file, or not an asciicast (text/plain)' },
    401: {
      description:
        'No or invalid API key, answered before the body is read (text/plain; 400 to the asciinema CLI)',
    },
    403: {
      description:
        'A viewer key, or outside the allowlist; before the body is read (text/plain; 400 to the asciinema CLI, which prints only 400 bodies)',
    },
    413: {
      description:
        'Over 32 MiB a request (refused by its declared length before reading), an event line over 4 MiB, a v1 file over 4 MiB, or over RECORDING_MAX_BYTES (text/plain)',
    },
  },
  handler: async ({ req, principal, org, ip, now, log }, deps: Deps) => {
    const access = requireOrg(org);
    // Events go to the frame buffer as they arrive, at most 4 MiB at a time, under the id the
    // recording gets once the whole file is in: a refused upload leaves no recording.
    const id = randomUUID();
    const cast: { header?: CastHeader } = {};
    let seq = 0;
    const upload = await streamMultipartFile(req, 'asciicast', ASCIINEMA_UPLOAD_LIMIT_BYTES, (file) =>
      streamAsciicast(file, {
        header: async (header) => {
          cast.header = header;
          return null;
        },
        events: async (frames) => {
          const staged = await deps.recordings.stage(id, seq++, frames);
          return staged.ok === false ? staged : null;
        },
      }),
    );
    const refused = refusal(upload);
    if (refused || !cast.header) {
      await deps.recordings.discardStaged(id);
      return refused ?? fail('VALIDATION_FAILED', 'The file is not an asciicast (v1 or v2).');
    }

    const uploader = basicCredentials(req)?.user.trim().slice(0, 100) || 'asciinema';
    const actor = actorOf(principal);
    const { width, height, title } = cast.header;
    await deps.recordings.start(
      access.orgId,
      {
        title: `${title ?? 'asciinema upload'} (uploaded by ${uploader})`.slice(0, 200),
        width,
        height,
        machineId: `asciinema:${uploader}`,
      },
      actor,
      ip,
      now,
      id,
    );
    const stopped = await deps.recordings.stop(id, { actor, role: access.role }, ip, now);
    if (stopped.ok === false) return stopped;
    log.info('asciinema upload stored', { recordingId: id, orgId: access.orgId, seqs: seq });
    return json(201, { url: `${deps.platform.config.appUrl}/api/recordings/${id}/playback` });
  },
});
