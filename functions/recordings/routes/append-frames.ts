import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { requireOrgRole } from '../../../shared/http/org-guard.js';
import { defineRoute, json } from '../../../shared/http/route.js';
import { type Deps, recordingOrg } from '../deps.js';

export const FRAMES_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
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
    'Append asciicast v2 events (NDJSON) under X-Frame-Seq; a repeated seq is acknowledged and ignored.',
  tags: ['recordings'],
  auth: requireOrgRole('member'),
  orgFrom: recordingOrg,
  contentTypes: ['application/x-ndjson'],
  bodyLimitBytes: FRAMES_BODY_LIMIT_BYTES,
  body: z.instanceof(Buffer),
  responses: {
    202: {
      description: 'Buffered (or already held)',
      schema: z.object({ seq: z.number(), duplicate: z.boolean() }),
    },
    400: { description: 'An event is malformed or its time goes back (the issue names the line)' },
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
