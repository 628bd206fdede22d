import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { FRAME_BATCH_MAX_BYTES } from '../../../shared/recordings/model.js';
import { callerOf, type Deps, recordingOrg } from '../deps.js';

/** Below 2^40, so the Firestore buffer's (seq, part) position stays an exact number. */
const seqHeader = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number)
  .pipe(z.number().max(2 ** 40 - 1));

export const appendFrames = defineRoute({
  method: 'POST',
  path: '/api/recordings/:id/frames',
  summary:
    "Append asciicast v2 events (NDJSON) under X-Frame-Seq (the recording's starter, or an admin+ of the org); a repeated seq is acknowledged and ignored.",
  tags: ['recordings'],
  auth: requireOrgRole('member'),
  orgFrom: recordingOrg,
  contentTypes: ['application/x-ndjson'],
  bodyLimitBytes: FRAME_BATCH_MAX_BYTES,
  body: z.instanceof(Buffer),
  // Before the body is read: a caller who may not feed this recording never gets to send 4 MiB.
  guard: ({ params, principal, org, ip, now }, deps) =>
    deps.recordings.authorizeFrames(params.id ?? '', callerOf(principal, org), ip, now),
  responses: {
    202: {
      description: 'Buffered (or already held)',
      schema: z.object({ seq: z.number(), duplicate: z.boolean() }),
    },
    400: { description: 'An event is malformed or its time goes back (the issue names the line)' },
    403: {
      description:
        'INSUFFICIENT_ROLE: a viewer, or a member (user or API key) who did not start the recording (audited as recording.frames_refused); answered before the body is read',
    },
    409: { description: 'The recording has stopped' },
    413: { description: 'Over 4 MiB, or the recording would pass RECORDING_MAX_BYTES' },
  },
  handler: async ({ req, body, params, now }, deps: Deps) => {
    const seq = seqHeader.safeParse(req.headers['x-frame-seq']);
    if (!seq.success) {
      return fail('VALIDATION_FAILED', 'The request is not valid.', {
        issues: [{ path: 'X-Frame-Seq', message: 'X-Frame-Seq must be an integer from 0 to 2^40 - 1' }],
      });
    }
    const outcome = await deps.recordings.ingest(params.id ?? '', seq.data, body, now);
    if (outcome.ok === false) return outcome;
    return json(202, { seq: seq.data, duplicate: !outcome.appended });
  },
});
