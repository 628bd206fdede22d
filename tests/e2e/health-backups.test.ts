import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBackupCheck } from '../../shared/backups/store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
let token: string;

beforeAll(async () => {
  app = await startTestApp();
  ({ token } = await app.signupVerifiedAndLogin());
});

afterAll(async () => {
  await app.stop();
});

describe('GET /api/health?detail=backups', () => {
  it('plain liveness stays anonymous and carries no detail', async () => {
    const response = await app.request('GET', '/api/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('the backup detail needs a session', async () => {
    const response = await app.request('GET', '/api/health?detail=backups');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('an unknown detail is a validation failure', async () => {
    const response = await app.request('GET', '/api/health?detail=secrets', { token });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('before the first check the detail is null, then it shows the newest check', async () => {
    expect((await app.request('GET', '/api/health?detail=backups', { token })).body).toEqual({
      status: 'ok',
      backups: null,
    });
    const db = app.runtime.platform.db;
    const check = { instance: 'p:r:i', runsExamined: 3, latestSuccessRunId: '7' };
    await recordBackupCheck(db, {
      ...check,
      status: 'verified',
      checkedAt: new Date('2026-03-02T06:00:00Z'),
      latestSuccessAt: new Date('2026-03-02T02:10:00Z'),
    });
    await recordBackupCheck(db, {
      ...check,
      status: 'missing',
      checkedAt: new Date('2026-03-09T06:00:00Z'),
      latestSuccessAt: new Date('2026-03-02T02:10:00Z'),
    });
    const response = await app.request('GET', '/api/health?detail=backups', { token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ok',
      backups: {
        status: 'missing',
        checkedAt: '2026-03-09T06:00:00.000Z',
        latestSuccessAt: '2026-03-02T02:10:00.000Z',
        runsExamined: 3,
      },
    });
  });
});
