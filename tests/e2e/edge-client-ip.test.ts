import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { throughLoadBalancer } from '../helpers/load-balancer.js';

/** The app as deployed: behind the load balancer, TRUSTED_PROXY_HOPS=2 (infra var default). */
let app: TestApp;
let user: { email: string; password: string; token: string };

beforeAll(async () => {
  app = await startTestApp({ env: { TRUSTED_PROXY_HOPS: '2' } });
  user = await app.signupVerifiedAndLogin();
});
afterAll(async () => {
  await app?.stop();
});

describe('client address behind the load balancer', () => {
  it('an attacker who writes a new X-Forwarded-For prefix on every login attempt is still throttled on the address the load balancer saw', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      const res = await app.request('POST', '/api/login', {
        body: { email: user.email, password: 'not the right password' },
        headers: throughLoadBalancer('198.51.100.66', `10.0.${attempt}.1, 192.0.2.${attempt + 1}`),
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    // Another client behind the same load balancer is unaffected.
    const other = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: throughLoadBalancer('198.51.100.67', '198.51.100.66'),
    });
    expect(other.status).toBe(200);
  });

  it('the session records the client address, not the prefix it wrote or the load balancer', async () => {
    const login = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
      headers: throughLoadBalancer('203.0.113.44', '8.8.8.8'),
    });
    expect(login.status).toBe(200);
    const sessions = await app.request('GET', '/api/sessions', { token: login.body.token });
    const current = sessions.body.sessions.find((s: { current: boolean }) => s.current);
    expect(current.ip).toBe('203.0.113.44');
  });
});
