import { z } from 'zod';
import { type BackupRun, backupRunSchema } from './model.js';

export const CLOUD_SQL_ADMIN_URL = 'https://sqladmin.googleapis.com';

/** One page of `GET /v1/projects/{project}/instances/{instance}/backupRuns` (Cloud SQL Admin API v1). */
const listResponseSchema = z.object({
  kind: z.literal('sql#backupRunsList').optional(),
  items: z.array(backupRunSchema).default([]),
  nextPageToken: z.string().optional(),
});

export interface CloudSqlInstanceRef {
  project: string;
  instance: string;
}

/** "project:region:instance" (CLOUD_SQL_INSTANCE) → the project and instance the Admin API names. */
export function instanceRef(connectionName: string): CloudSqlInstanceRef | null {
  const parts = connectionName.split(':');
  if (parts.length !== 3 || parts.some((part) => part === '')) return null;
  return { project: parts[0] as string, instance: parts[2] as string };
}

/** The function's own service account's token for the Admin API (its IAM role decides what it may do). */
export async function serviceAccountToken(): Promise<() => Promise<string>> {
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/sqlservice.admin'] });
  return async () => {
    const token = await auth.getAccessToken();
    if (!token) throw new Error('no access token for the Cloud SQL Admin API');
    return token;
  };
}

export interface CloudSqlAdminOptions {
  baseUrl?: string;
  /** An OAuth access token with the sqlservice.admin (or cloud-platform) scope. */
  accessToken: () => Promise<string>;
  pageSize?: number;
  fetch?: typeof fetch;
}

/**
 * Lists backup runs newest first, one page at a time, so a caller can stop as soon as it has
 * what it needs. Non-2xx answers throw: the consumer fails and Pub/Sub redelivers.
 */
export async function* listBackupRuns(
  ref: CloudSqlInstanceRef,
  options: CloudSqlAdminOptions,
): AsyncGenerator<BackupRun[]> {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl ?? CLOUD_SQL_ADMIN_URL;
  let pageToken: string | undefined;
  do {
    const url = new URL(
      `/v1/projects/${encodeURIComponent(ref.project)}/instances/${encodeURIComponent(ref.instance)}/backupRuns`,
      base,
    );
    url.searchParams.set('maxResults', String(options.pageSize ?? 100));
    if (pageToken) url.searchParams.set('pageToken', pageToken);
    const response = await doFetch(url, {
      headers: { authorization: `Bearer ${await options.accessToken()}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) {
      throw new Error(`Cloud SQL Admin API backupRuns.list answered ${response.status}`);
    }
    const page = listResponseSchema.parse(await response.json());
    yield page.items;
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
}

/** A Cloud SQL Admin long-running operation (the parts the restore drill reads). */
const operationSchema = z.object({
  name: z.string(),
  status: z.enum(['SQL_OPERATION_STATUS_UNSPECIFIED', 'PENDING', 'RUNNING', 'DONE']),
  error: z
    .object({ errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() })) })
    .optional(),
});
export type SqlOperation = z.infer<typeof operationSchema>;

async function adminCall(
  options: CloudSqlAdminOptions,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<SqlOperation> {
  const doFetch = options.fetch ?? fetch;
  const response = await doFetch(new URL(path, options.baseUrl ?? CLOUD_SQL_ADMIN_URL), {
    method,
    headers: {
      authorization: `Bearer ${await options.accessToken()}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`Cloud SQL Admin API ${method} ${path} answered ${response.status}`);
  return operationSchema.parse(await response.json());
}

const instancePath = (ref: CloudSqlInstanceRef) =>
  `/v1/projects/${encodeURIComponent(ref.project)}/instances/${encodeURIComponent(ref.instance)}`;

/** The Admin API calls the restore drill makes: clone at a point in time, follow, delete. */
export function cloudSqlAdmin(options: CloudSqlAdminOptions) {
  return {
    clone: (ref: CloudSqlInstanceRef, destination: string, pointInTime: Date) =>
      adminCall(options, 'POST', `${instancePath(ref)}/clone`, {
        cloneContext: { destinationInstanceName: destination, pointInTime: pointInTime.toISOString() },
      }),
    operation: (project: string, name: string) =>
      adminCall(
        options,
        'GET',
        `/v1/projects/${encodeURIComponent(project)}/operations/${encodeURIComponent(name)}`,
      ),
    deleteInstance: (ref: CloudSqlInstanceRef) => adminCall(options, 'DELETE', instancePath(ref)),
  };
}
export type CloudSqlAdmin = ReturnType<typeof cloudSqlAdmin>;
