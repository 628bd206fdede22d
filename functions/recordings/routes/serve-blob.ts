import { z } from 'zod';
import { fail } from '../../../shared/errors/codes.js';
import { defineRoute } from '../../../shared/http/route.js';
import { ASCIICAST_CONTENT_TYPE } from '../../../shared/recordings/model.js';
import { attachmentDisposition, verifyLocalPlayback } from '../../../shared/recordings/playback.js';
import type { Deps } from '../deps.js';

/**
 * Embedded runtime only: what a local playback link points at (production links go straight to
 * Cloud Storage). The signature is the authorization; an expired or altered link answers 403
 * INSUFFICIENT_ROLE, the closed list's nearest "you may not have this".
 */
export const serveBlob = defineRoute({
  method: 'GET',
  path: '/api/recordings/blob/:id',
  summary: 'Serve an archived recording through a signed local link (embedded runtime).',
  tags: ['recordings'],
  auth: { kind: 'none' },
  query: z.object({ expires: z.string().max(20).default(''), sig: z.string().max(128).default('') }),
  responses: {
    200: { description: 'The gzip asciicast (Content-Encoding: gzip)' },
    403: { description: 'The link is expired or its signature does not match' },
  },
  handler: async ({ params, query, now }, deps: Deps) => {
    const id = params.id ?? '';
    if (!verifyLocalPlayback(await deps.blobUrlKey(), id, query.expires, query.sig, now)) {
      return fail('INSUFFICIENT_ROLE', 'This playback link is expired or not valid.');
    }
    // A deleted org's recordings are gone at once, links issued before the deletion included.
    const recording = await deps.recordings.getServable(id);
    const stream = recording?.blobKey ? await deps.blobs.read(recording.blobKey) : null;
    if (!stream) return fail('NOT_FOUND');
    return {
      status: 200,
      raw: stream,
      headers: {
        'content-type': ASCIICAST_CONTENT_TYPE,
        'content-encoding': 'gzip',
        'content-disposition': attachmentDisposition(id),
        ...(recording?.bytes !== null && recording?.bytes !== undefined
          ? { 'content-length': String(recording.bytes) }
          : {}),
      },
    };
  },
});
