import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../../shared/errors/codes.js';
import { errorWords, toApiError } from './errors.js';

describe('the console’s error words', () => {
  it('has words for every code of the API’s closed list', () => {
    for (const code of errorCodes) expect(errorWords[code], code).toMatch(/\w/);
  });

  it('reads the code, message, issues and Retry-After of an error body', () => {
    const error = toApiError(
      400,
      {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'Some allowlist entries are not valid.',
          issues: [{ path: 'entries.1.cidr', message: 'is not an address' }],
        },
      },
      null,
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fieldIssue('entries.1')).toBe('is not an address');
    expect(error.fieldIssue('entries.0')).toBeUndefined();
    expect(error.words).toContain('Some allowlist entries are not valid.');
    const limited = toApiError(429, { error: { code: 'RATE_LIMITED', message: 'Too many.' } }, '42');
    expect(limited.words).toContain('42 s');
  });

  it('treats an unknown code or a body that is not an API error as INTERNAL', () => {
    expect(toApiError(500, { error: { code: 'SOMETHING_NEW_AND_ODD' } }, null).code).toBe('INTERNAL');
    expect(toApiError(502, undefined, null).code).toBe('INTERNAL');
    expect(
      toApiError(403, { error: { code: 'STEP_UP_REQUIRED', methods: ['totp'] } }, null).extra.methods,
    ).toEqual(['totp']);
  });
});
