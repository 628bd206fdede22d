import { describe, expect, it } from 'vitest';
import { ipBucket } from './login-throttle.js';
import { decideHit, forgetHit } from './window.js';

const rule = { windowMs: 15 * 60_000, limit: 3 };
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes));

describe('sliding window', () => {
  it('allows up to the limit inside the window and refuses the next', () => {
    let hits: Date[] = [];
    for (const minute of [0, 1, 2]) {
      const decision = decideHit(hits, at(minute), rule);
      expect(decision.allowed).toBe(true);
      hits = decision.hits;
    }
    const refused = decideHit(hits, at(3), rule);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(12 * 60);
  });

  it('frees a slot exactly when the oldest hit leaves the window', () => {
    const hits = [at(0), at(1), at(2)];
    expect(decideHit(hits, new Date(at(15).getTime() - 1), rule).allowed).toBe(false);
    expect(decideHit(hits, at(15), rule).allowed).toBe(true);
  });

  it('a refused attempt does not extend the window', () => {
    const hits = [at(0), at(1), at(2)];
    expect(decideHit(hits, at(5), rule).hits).toHaveLength(3);
  });

  it('forgets one hit', () => {
    expect(forgetHit([at(0), at(1), at(1)], at(1))).toEqual([at(0), at(1)]);
    expect(forgetHit([at(0)], at(9))).toEqual([at(0)]);
  });
});

describe('ipBucket', () => {
  it('keeps IPv4 addresses whole and maps IPv4-mapped IPv6 to IPv4', () => {
    expect(ipBucket('203.0.113.9')).toBe('ip4:203.0.113.9');
    expect(ipBucket('::ffff:203.0.113.9')).toBe('ip4:203.0.113.9');
  });

  it('puts anything that is not an address into one shared bucket, never a bucket of its own', () => {
    expect(ipBucket('not-an-ip')).toBe('unknown');
    expect(ipBucket('another spelling')).toBe(ipBucket('not-an-ip'));
  });

  it('buckets IPv6 by /64', () => {
    expect(ipBucket('2001:db8:1:2:aaaa::1')).toBe(ipBucket('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(ipBucket('2001:db8:1:2::1')).not.toBe(ipBucket('2001:db8:1:3::1'));
  });
});
