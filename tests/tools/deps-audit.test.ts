import { describe, expect, it } from 'vitest';
import { auditVerdict } from '../../scripts/deps-audit/verdict.js';

const report = (counts: Record<string, number>) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities: {},
    metadata: { vulnerabilities: { info: 0, ...counts } },
  });

describe('the weekly dependency audit verdict', () => {
  it('passes with only low and moderate advisories', () => {
    expect(auditVerdict(report({ low: 3, moderate: 1, high: 0, critical: 0 }))).toMatchObject({
      status: 'passed',
      exitCode: 0,
    });
  });

  it('fails on any high or critical advisory', () => {
    expect(auditVerdict(report({ low: 0, moderate: 0, high: 1, critical: 0 }))).toMatchObject({
      status: 'failed',
      exitCode: 1,
    });
    expect(auditVerdict(report({ low: 0, moderate: 0, high: 0, critical: 2 }))).toMatchObject({
      status: 'failed',
      exitCode: 1,
      message: '2 critical and 0 high advisories in production dependencies.',
    });
  });

  it('gives no verdict, never a pass, when the registry cannot be reached', () => {
    const offline = JSON.stringify({
      error: {
        code: 'ENOTFOUND',
        summary: 'request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed',
      },
    });
    expect(auditVerdict(offline)).toMatchObject({ status: 'unreachable', exitCode: 2 });
    expect(auditVerdict(offline).message).toContain('could not get advisories from the registry');
  });

  it('gives no verdict when a registry mirror refuses the advisories endpoint', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    });
    expect(auditVerdict(refused)).toMatchObject({ status: 'unreachable', exitCode: 2 });
    expect(auditVerdict(refused).message).toContain('405 Method Not Allowed');
  });

  it('gives no verdict on output that is not a report', () => {
    expect(auditVerdict('')).toMatchObject({ status: 'unreadable', exitCode: 2 });
    expect(auditVerdict('{"unexpected":true}')).toMatchObject({ status: 'unreadable', exitCode: 2 });
  });
});
