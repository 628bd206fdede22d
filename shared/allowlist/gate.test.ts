import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../http/auth.js';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import type { SessionService } from '../sessions/service.js';
import { FakeClock, SECOND_MS } from '../time/clock.js';
import { AllowlistCache } from './cache.js';
import { checkEntries } from './entries.js';
import { AllowlistGate } from './gate.js';
import type { EnforcementInput } from './store.js';

const ORG = '7d1c3c52-3c1e-4f59-9f57-0d3f5c1f7a10';
function stored(enabled: boolean, ...cidrs: string[]): EnforcementInput {
  const checked = checkEntries(cidrs.map((cidr) => ({ cidr, label: '' })));
  if (!checked.ok) throw new Error('bad test entry');
  return { enabled, networks: checked.networks };
}
const office = stored(true, '203.0.113.0/24');

function harness(initial: EnforcementInput = office) {
  const clock = new FakeClock('2026-05-01T10:00:00Z');
  const state = { list: initial, loads: 0, failing: false };
  const cache = new AllowlistCache(async () => {
    state.loads++;
    if (state.failing) throw new Error('connection refused');
    return state.list;
  }, clock);
  const lines: string[] = [];
  const logger = createLogger('info', (line) => lines.push(line));
  const metrics = createMetrics(logger);
  return { clock, state, cache, metrics, lines, gate: new AllowlistGate(cache, logger, metrics) };
}

describe('the allowlist gate', () => {
  it('lets an address inside an enabled list through and refuses one outside with IP_NOT_ALLOWED', async () => {
    const { gate } = harness();
    expect(await gate.check(ORG, '203.0.113.77')).toBeNull();
    expect(await gate.check(ORG, '::ffff:203.0.113.77')).toBeNull();
    expect(await gate.check(ORG, '198.51.100.1')).toMatchObject({ ok: false, code: 'IP_NOT_ALLOWED' });
    expect(await gate.check(ORG, '2001:db8::1')).toMatchObject({ ok: false, code: 'IP_NOT_ALLOWED' });
    expect(await gate.check(ORG, 'not-an-ip')).toMatchObject({ ok: false, code: 'IP_NOT_ALLOWED' });
  });

  it('enforces nothing while the list is disabled, whatever it holds', async () => {
    const { gate } = harness(stored(false, '203.0.113.0/24'));
    expect(await gate.check(ORG, '198.51.100.1')).toBeNull();
  });

  it('lets the request through, logs and counts when the list cannot be read', async () => {
    const { gate, state, metrics, lines } = harness();
    state.failing = true;
    expect(await gate.check(ORG, '198.51.100.1')).toBeNull();
    expect(metrics.value('allowlist_store_errors')).toBe(1);
    expect(lines.some((line) => JSON.parse(line).message.includes('allowlist could not be read'))).toBe(true);
    // The failure is not cached: the store is asked again, and enforcement resumes once it answers.
    state.failing = false;
    expect(await gate.check(ORG, '198.51.100.1')).toMatchObject({ code: 'IP_NOT_ALLOWED' });
    expect(state.loads).toBe(2);
  });
});

describe('the per-instance allowlist cache', () => {
  it('reads each org once per 60 s and again after the TTL', async () => {
    const { cache, clock, state } = harness();
    await cache.get(ORG);
    clock.advance(59 * SECOND_MS);
    await cache.get(ORG);
    expect(state.loads).toBe(1);
    clock.advance(1 * SECOND_MS);
    await cache.get(ORG);
    expect(state.loads).toBe(2);
  });

  it('serves a change made elsewhere within the TTL, and at once after invalidation', async () => {
    const { cache, gate, state, clock } = harness();
    expect(await gate.check(ORG, '198.51.100.1')).not.toBeNull();
    state.list = { enabled: false, networks: [] };
    clock.advance(30 * SECOND_MS);
    expect(await gate.check(ORG, '198.51.100.1')).not.toBeNull();
    cache.invalidate(ORG);
    expect(await gate.check(ORG, '198.51.100.1')).toBeNull();
  });

  it('shares one read between concurrent misses', async () => {
    const { cache, state } = harness();
    await Promise.all([cache.get(ORG), cache.get(ORG), cache.get(ORG)]);
    expect(state.loads).toBe(1);
  });

  it('does not cache a read that was in flight when the org was invalidated', async () => {
    const clock = new FakeClock();
    let release: (list: EnforcementInput) => void = () => {};
    let loads = 0;
    const cache = new AllowlistCache(
      () =>
        new Promise<EnforcementInput>((resolve) => {
          loads++;
          release = resolve;
        }),
      clock,
    );
    const stale = cache.get(ORG);
    cache.invalidate(ORG);
    release(office);
    await stale;
    const fresh = cache.get(ORG);
    expect(loads).toBe(2);
    release({ enabled: false, networks: [] });
    expect(await fresh).toEqual({ enabled: false });
  });

  it('keeps at most maxOrgs orgs, dropping the oldest fill', async () => {
    const clock = new FakeClock();
    const cache = new AllowlistCache(async () => office, clock, { ttlMs: 60_000, maxOrgs: 2 });
    for (const org of ['a', 'b', 'c']) await cache.get(org);
    expect(cache.size).toBe(2);
  });
});

describe('API keys and the allowlist', () => {
  it('refuses an API key of the org from outside the list, before the role check', async () => {
    const { gate } = harness();
    const authenticate = createAuthenticator({
      sessions: {} as SessionService,
      apiKeys: { verify: async () => ({ id: 'k1', orgId: ORG, role: 'viewer', name: 'ci' }) },
      network: gate,
    });
    const req = { headers: { authorization: 'Bearer sf_live_testkey' } } as IncomingMessage;
    const requirement = { kind: 'org', minRole: 'admin' } as const;
    const now = new Date('2026-05-01T10:00:00Z');
    const outside = await authenticate(req, requirement, { ip: '198.51.100.1', now, orgId: ORG });
    expect(outside).toMatchObject({ ok: false, code: 'IP_NOT_ALLOWED' });
    const inside = await authenticate(req, requirement, { ip: '203.0.113.5', now, orgId: ORG });
    expect(inside).toMatchObject({ ok: false, code: 'INSUFFICIENT_ROLE' });
    const allowed = await authenticate(
      req,
      { kind: 'org', minRole: 'viewer' },
      { ip: '203.0.113.5', now, orgId: ORG },
    );
    expect(allowed).toMatchObject({ ok: true, principal: { type: 'api_key' } });
  });
});
