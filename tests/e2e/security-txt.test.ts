import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRewrites, unitFor } from '../../shared/runtime/rewrites.js';
import { FakeClock } from '../../shared/time/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const clock = new FakeClock('2026-07-01T15:30:00Z');
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    clock,
    env: {
      APP_URL: 'https://app.example.com',
      SECURITY_CONTACT: 'mailto:security@example.com',
      SECURITY_POLICY_URL: 'https://example.com/security-policy',
      SECURITY_TXT_LANGUAGES: 'en, fr',
    },
  });
});
afterAll(() => app?.stop());

describe('GET /.well-known/security.txt', () => {
  it('is served by the gateway as text/plain with every field from configuration', async () => {
    const response = await app.request('GET', '/.well-known/security.txt');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const fields = Object.fromEntries(
      response.text
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
    );
    expect(fields).toEqual({
      Contact: 'mailto:security@example.com',
      Expires: '2027-06-30T00:00:00.000Z',
      Policy: 'https://example.com/security-policy',
      'Preferred-Languages': 'en, fr',
      Canonical: 'https://app.example.com/.well-known/security.txt',
    });
  });

  it('rolls Expires forward as time passes', async () => {
    clock.advance(100 * 86_400_000);
    const response = await app.request('GET', '/.well-known/security.txt');
    expect(response.text).toContain('Expires: 2027-10-08T00:00:00.000Z');
  });

  it('goes to the meta unit in the edge route table, which the load balancer is generated from', () => {
    expect(unitFor(loadRewrites(), '/.well-known/security.txt')).toBe('meta');
    const urlMap = readFileSync(new URL('../../infra/edge-routes.tf', import.meta.url), 'utf8');
    expect(urlMap).toMatch(/unit = "meta", path = "\/\.well-known\/security\.txt", exact = true/);
  });
});
