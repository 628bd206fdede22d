import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A BackupRun exactly as the Cloud SQL Admin API v1 serves it (backupRuns resource reference). */
export function backupRun(fields: {
  id: string;
  status: string;
  windowStartTime: string;
  endTime?: string;
  type?: 'AUTOMATED' | 'ON_DEMAND';
  instance?: string;
}) {
  const instance = fields.instance ?? 'sf-prod-pg';
  const window = new Date(fields.windowStartTime);
  return {
    kind: 'sql#backupRun',
    status: fields.status,
    enqueuedTime: window.toISOString(),
    id: fields.id,
    startTime: new Date(window.getTime() + 60_000).toISOString(),
    ...(fields.endTime ? { endTime: fields.endTime } : {}),
    ...(fields.status === 'FAILED'
      ? { error: { kind: 'sql#operationError', code: 'BACKUP_FAILED', message: 'backup failed' } }
      : {}),
    type: fields.type ?? 'AUTOMATED',
    windowStartTime: window.toISOString(),
    instance,
    selfLink: `https://sqladmin.googleapis.com/v1/projects/acme/instances/${instance}/backupRuns/${fields.id}`,
    location: 'europe-west1',
    databaseVersion: 'POSTGRES_16',
    backupKind: 'SNAPSHOT',
    timeZone: 'UTC',
  };
}

export interface FakeCloudSqlAdmin {
  url: string;
  /** Every request received: path, query and the Authorization header. */
  requests: Array<{ path: string; query: Record<string, string>; authorization: string | undefined }>;
  /** Pages served in order through nextPageToken; replace to change the answer. */
  pages: Array<Array<ReturnType<typeof backupRun>>>;
  /** When set, every request is answered with this status and a Google API error body. */
  failWith: number | null;
  close(): Promise<void>;
}

/**
 * A local stand-in for `GET /v1/projects/{project}/instances/{instance}/backupRuns`: answers pages of
 * `{kind: "sql#backupRunsList", items, nextPageToken}` and Google's error shape, so the production
 * client is exercised unchanged against it.
 */
export async function startFakeCloudSqlAdmin(expected: {
  project: string;
  instance: string;
}): Promise<FakeCloudSqlAdmin> {
  const fake: Omit<FakeCloudSqlAdmin, 'url' | 'close'> = { requests: [], pages: [[]], failWith: null };
  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    fake.requests.push({
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
    });
    res.setHeader('content-type', 'application/json; charset=UTF-8');
    const expectedPath = `/v1/projects/${expected.project}/instances/${expected.instance}/backupRuns`;
    if (fake.failWith !== null || url.pathname !== expectedPath || req.method !== 'GET') {
      const code = fake.failWith ?? 404;
      res.statusCode = code;
      res.end(
        JSON.stringify({ error: { code, message: 'The request failed.', errors: [{ reason: 'failed' }] } }),
      );
      return;
    }
    const index = Number(url.searchParams.get('pageToken')?.replace('page-', '') ?? '0');
    const items = fake.pages[index] ?? [];
    const next = index + 1 < fake.pages.length ? { nextPageToken: `page-${index + 1}` } : {};
    res.end(JSON.stringify({ kind: 'sql#backupRunsList', ...(items.length ? { items } : {}), ...next }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as FakeCloudSqlAdmin;
}
