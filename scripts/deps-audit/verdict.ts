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

export type AuditVerdict =
  | { status: 'passed'; exitCode: 0; counts: Counts; message: string }
  | { status: 'failed'; exitCode: 1; counts: Counts; message: string }
  | { status: 'unreachable' | 'unreadable'; exitCode: 2; message: string };

type Counts = { low: number; moderate: number; high: number; critical: number };

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
 * dependencies fail; a registry that cannot be reached gives no verdict at all (exit 2), never a pass.
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
      parsed.statusCode !== undefined;
    const why =
      parsed.statusCode !== undefined
        ? (parsed.message ?? `HTTP ${parsed.statusCode}`)
        : code || 'network error';
    return {
      status: network ? 'unreachable' : 'unreadable',
      exitCode: 2,
      message: network
        ? `npm audit could not get advisories from the registry (${why}): no verdict. Run it again with access to the registry's audit endpoint.`
        : `npm audit failed (${code || 'unknown error'}): ${parsed.error.summary || 'no summary'}`,
    };
  }
  const report = npmAuditReport.safeParse(json);
  if (!report.success) {
    return { status: 'unreadable', exitCode: 2, message: 'npm audit printed no report: no verdict.' };
  }
  const counts = report.data.metadata.vulnerabilities;
  const blocking = counts.high + counts.critical;
  return blocking > 0
    ? {
        status: 'failed',
        exitCode: 1,
        counts,
        message: `${counts.critical} critical and ${counts.high} high advisories in production dependencies.`,
      }
    : {
        status: 'passed',
        exitCode: 0,
        counts,
        message: 'No high or critical advisories in production dependencies.',
      };
}
