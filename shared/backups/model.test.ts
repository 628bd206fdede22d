import { describe, expect, it } from 'vitest';
import { type BackupRun, judgeBackups } from './model.js';

const now = new Date('2026-03-09T06:00:00Z');
const run = (id: string, status: string, endTime?: string): BackupRun => ({
  id,
  status,
  type: 'AUTOMATED',
  windowStartTime: endTime,
  ...(endTime ? { endTime } : {}),
});

describe('judgeBackups', () => {
  it('a SUCCESSFUL backup that ended within the last 7 days verifies', () => {
    const verdict = judgeBackups([run('2', 'SUCCESSFUL', '2026-03-08T02:20:00Z')], now);
    expect(verdict).toEqual({
      status: 'verified',
      latestSuccessAt: new Date('2026-03-08T02:20:00Z'),
      latestSuccessRunId: '2',
      runsExamined: 1,
    });
  });

  it('a backup that ended exactly 7 days ago still counts, one millisecond more does not', () => {
    expect(judgeBackups([run('1', 'SUCCESSFUL', '2026-03-02T06:00:00.000Z')], now).status).toBe('verified');
    expect(judgeBackups([run('1', 'SUCCESSFUL', '2026-03-02T05:59:59.999Z')], now).status).toBe('missing');
  });

  it('failed, running, skipped and deleted runs never count, however recent', () => {
    const verdict = judgeBackups(
      [
        run('5', 'FAILED', '2026-03-09T02:10:00Z'),
        run('4', 'RUNNING'),
        run('3', 'SKIPPED', '2026-03-08T02:10:00Z'),
        run('2', 'DELETED', '2026-03-07T02:10:00Z'),
        run('1', 'SUCCESSFUL', '2026-02-20T02:10:00Z'),
      ],
      now,
    );
    expect(verdict).toEqual({
      status: 'missing',
      latestSuccessAt: new Date('2026-02-20T02:10:00Z'),
      latestSuccessRunId: '1',
      runsExamined: 5,
    });
  });

  it('no runs at all is missing with no latest success', () => {
    expect(judgeBackups([], now)).toEqual({
      status: 'missing',
      latestSuccessAt: null,
      latestSuccessRunId: null,
      runsExamined: 0,
    });
  });

  it('a success without an end time, with an unparseable one, or ending in the future does not count', () => {
    const verdict = judgeBackups(
      [
        run('3', 'SUCCESSFUL'),
        run('2', 'SUCCESSFUL', 'yesterday'),
        run('1', 'SUCCESSFUL', '2026-03-10T00:00:00Z'),
      ],
      now,
    );
    expect(verdict.status).toBe('missing');
    expect(verdict.latestSuccessAt).toBeNull();
  });

  it('the newest success is reported whatever the order of the runs', () => {
    const verdict = judgeBackups(
      [run('1', 'SUCCESSFUL', '2026-03-05T02:00:00Z'), run('2', 'SUCCESSFUL', '2026-03-07T02:00:00Z')],
      now,
    );
    expect(verdict.latestSuccessRunId).toBe('2');
  });
});
