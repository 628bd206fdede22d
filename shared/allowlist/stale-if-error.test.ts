import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import { FakeClock } from '../time/clock.js';
import { ALLOWLIST_CACHE_TTL_MS, AllowlistCache } from './cache.js';
import { checkEntries } from './entries.js';
import { AllowlistGate } from './gate.js';
import type { EnforcementInput } from './store.js';

const ORG = '7d1c3c52-3c1e-4f59-9f57-0d3f5c1f7a10';
const office = (): EnforcementInput => {
  const checked = checkEntries([{ cidr: '203.0.113.0/24', label: '' }]);
  if (!checked.ok) throw new Error('bad test entry');
  return { enabled: true, networks: checked.networks };
};

/**
 * An attacker holding a stolen credential outside the org's network can make the database slow
 * (a flood fills the pool; a connection now gives up after 3 s): the list's reload then fails and
 * the gate fails open. A list this instance already read must keep applying instead.
 */
describe('allowlist reload failing after the cached list expired', () => {
  function harness() {
    const clock = new FakeClock('2026-05-01T10:00:00Z');
    const state = { failing: false };
    const cache = new AllowlistCache(async () => {
      if (state.failing) throw new Error('timeout exceeded when trying to connect');
      return office();
    }, clock);
    const logger = createLogger('silent');
    return { clock, state, cache, gate: new AllowlistGate(cache, logger, createMetrics(logger)) };
  }

  it('keeps refusing an outside address with the last list read', async () => {
    const { clock, state, gate } = harness();
    expect(await gate.check(ORG, '198.51.100.1')).toMatchObject({ code: 'IP_NOT_ALLOWED' });
    clock.advance(ALLOWLIST_CACHE_TTL_MS + 1);
    state.failing = true;
    const answers = await Promise.all([gate.check(ORG, '198.51.100.1'), gate.check(ORG, '198.51.100.2')]);
    for (const answer of answers) expect(answer).toMatchObject({ code: 'IP_NOT_ALLOWED' });
    expect(await gate.check(ORG, '203.0.113.5')).toBeNull();
  });

  it('does not bring back a list invalidated since (a change elsewhere): then it fails open as before', async () => {
    const { clock, state, cache, gate } = harness();
    await gate.check(ORG, '198.51.100.1');
    cache.invalidate(ORG);
    clock.advance(ALLOWLIST_CACHE_TTL_MS + 1);
    state.failing = true;
    expect(await gate.check(ORG, '198.51.100.1')).toBeNull();
  });
});
