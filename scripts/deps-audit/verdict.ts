import { z } from 'zod';

/** What `npm audit --json` prints: a report, or an error object when it could not run. */
const npmAuditError = z
  .object({
    error: z.object({ code: z.string().nullable().optional(), summary: z.string().optional() }).passthrough(),
    // An HTTP failure of the advisories endpoint (a proxy or mirror without it) comes as these.
    message: z.string().optional(),
    statusCode: z.number().optional(),
  })
  .passthrough();

const npmAuditReport = z
  .object({
    metadata: z.object({
      vulnerabilities: z.object({
        low: z.number().default(0),
        moderate: z.number().default(0),
        high: z.number().default(0),
        critical: z.number().default(0),
      }),
    }),
  })
  .passthrough();

type Counts = { low: number; moderate: number; high: number; critical: number };

/**
 * Three outcomes, never confused: `clean` (exit 0) means an advisories endpoint answered and found
 * no high or critical advisory; `vulnerable` (exit 1) that it found some; `unknown` (exit 2) that
 * there is no verdict at all — no advisories endpoint could be reached, or npm printed no report.
 */
export type AuditVerdict =
  | { verdict: 'clean'; exitCode: 0; counts: Counts; message: string }
  | { verdict: 'vulnerable'; exitCode: 1; counts: Counts; message: string }
  | {
      verdict: 'unknown';
      exitCode: 2;
      reason: 'advisories_unreachable' | 'npm_failed' | 'no_report';
      message: string;
    };

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENETUNREACH',
]);

/**
 * Reads `npm audit --omit=dev --json` output: high or critical advisories in production
 * dependencies fail; a registry whose advisories endpoint cannot be reached gives no verdict at
 * all (exit 2), never a pass.
 */
export function auditVerdict(stdout: string): AuditVerdict {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = null;
  }
  const failure = npmAuditError.safeParse(json);
  if (failure.success) {
    const parsed = failure.data;
    const code = parsed.error.code ?? '';
    const network =
      NETWORK_CODES.has(code) ||
      /request to .* failed/i.test(parsed.error.summary ?? '') ||
      // npm 11 puts a refused connection in `message` with an empty error object.
      /request to .* failed/i.test(parsed.message ?? '') ||
      parsed.statusCode !== undefined;
    const why =
      parsed.statusCode !== undefined
        ? (parsed.message ?? `HTTP ${parsed.statusCode}`)
        : code || parsed.message || 'network error';
    return network
      ? {
          verdict: 'unknown',
          exitCode: 2,
          reason: 'advisories_unreachable',
          message: `No verdict: no advisories endpoint could be reached (${why}). This is not a pass: run it again where the registry answers POST /-/npm/v1/security/advisories/bulk, or name one with --registry <url>.`,
        }
      : {
          verdict: 'unknown',
          exitCode: 2,
          reason: 'npm_failed',
          message: `No verdict: npm audit failed (${code || 'unknown error'}): ${parsed.error.summary || 'no summary'}`,
        };
  }
  const report = npmAuditReport.safeParse(json);
  if (!report.success) {
    return {
      verdict: 'unknown',
      exitCode: 2,
      reason: 'no_report',
      message: 'No verdict: npm audit printed no report.',
    };
  }
  const counts = report.data.metadata.vulnerabilities;
  const blocking = counts.high + counts.critical;
  return blocking > 0
    ? {
        verdict: 'vulnerable',
        exitCode: 1,
        counts,
        message: `${counts.critical} critical and ${counts.high} high advisories in production dependencies.`,
      }
    : {
        verdict: 'clean',
        exitCode: 0,
        counts,
        message: 'No high or critical advisories in production dependencies.',
      };
}
