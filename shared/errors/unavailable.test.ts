import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, isDependencyUnavailable } from './unavailable.js';

const withCode = (message: string, code: string | number) => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it('recognizes a dropped, refused or timed-out database connection as an outage', () => {
    expect(isDependencyUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isDependencyUnavailable(new Error('Client has encountered a connection error and is not queryable')),
    ).toBe(true);
    expect(isDependencyUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDependencyUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(
      true,
    );
    expect(
      isDependencyUnavailable(withCode('terminating connection due to administrator command', '57P01')),
    ).toBe(true);
    expect(isDependencyUnavailable(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(isDependencyUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(isDependencyUnavailable(withCode('sorry, too many clients already', '53300'))).toBe(true);
  });

  it('looks through causes and the attempts of an AggregateError', () => {
    expect(
      isDependencyUnavailable(new Error('query failed', { cause: withCode('reset', 'ECONNRESET') })),
    ).toBe(true);
    expect(
      isDependencyUnavailable(new AggregateError([withCode('refused', 'ECONNREFUSED')], 'connect')),
    ).toBe(true);
    expect(isDependencyUnavailable(new DependencyUnavailableError('object storage'))).toBe(true);
  });

  it('does not call a bug or a conflict an outage', () => {
    expect(isDependencyUnavailable(withCode('duplicate key value violates unique constraint', '23505'))).toBe(
      false,
    );
    expect(isDependencyUnavailable(withCode('syntax error at or near "selec"', '42601'))).toBe(false);
    expect(isDependencyUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(
      false,
    );
    expect(isDependencyUnavailable(withCode('No such object', 404))).toBe(false);
    expect(isDependencyUnavailable('Connection terminated')).toBe(false);
    expect(isDependencyUnavailable(null)).toBe(false);
  });
});
