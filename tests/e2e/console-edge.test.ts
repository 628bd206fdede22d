import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieOrigins } from '../../shared/http/auth.js';
import { consoleCsp, ensureConsoleBuilt } from '../../shared/runtime/console.js';
import { loadRewrites } from '../../shared/runtime/rewrites.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const APP = 'http://console.example.test';
const cookie = (token: string) => ({ cookie: `__Host-sf_session=${token}` });

describe('cookie-authenticated unsafe requests and their Origin', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { APP_URL: APP, APP_ORIGINS: 'https://admin.example.test' } });
  });
  afterAll(() => app.stop());

  it('refuses a cross-site form post that rides on the session cookie, and nothing changes', async () => {
    const user = await app.signupVerifiedAndLogin();
    const other = await app.request('POST', '/api/login', {
      body: { email: user.email, password: user.password },
    });
    const attack = await app.request('POST', '/api/sessions/revoke-all', {
      headers: {
        ...cookie(user.token),
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      raw: 'x=1',
    });
    expect(attack.status).toBe(403);
    expect(attack.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(attack.body.error.message).toContain('https://evil.example');
    const still = await app.request('GET', '/api/sessions/current', { token: other.body.token });
    expect(still.status).toBe(200);
  });

  it('refuses a sibling subdomain (same site, other origin) and a request with no Origin', async () => {
    const user = await app.signupVerifiedAndLogin();
    const origins: Array<Record<string, string>> = [
      { origin: 'http://evil.console.example.test' },
      { origin: 'http://example.test' },
      {},
    ];
    for (const headers of origins) {
      const res = await app.request('POST', '/api/sessions/revoke-others', {
        headers: { ...cookie(user.token), ...headers },
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
    }
    const del = await app.request('DELETE', '/api/sessions/devices/00000000-0000-0000-0000-000000000000', {
      headers: { ...cookie(user.token), origin: 'null' },
    });
    expect(del.status).toBe(403);
    expect(del.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('refuses a cross-origin request with a valid cookie as 403 (not 401: the session is fine), and the session still works from the console', async () => {
    const user = await app.signupVerifiedAndLogin();
    const attack = await app.request('POST', '/api/login/logout', {
      headers: { ...cookie(user.token), origin: 'https://evil.example' },
    });
    expect(attack.status).toBe(403);
    expect(attack.body.error.message).toContain('Authorization: Bearer');
    const own = await app.request('GET', '/api/sessions/current', { headers: cookie(user.token) });
    expect(own.status).toBe(200);
  });

  it('accepts the console’s own origin and every origin of APP_ORIGINS', async () => {
    const user = await app.signupVerifiedAndLogin();
    for (const origin of [APP, 'https://admin.example.test']) {
      const res = await app.request('POST', '/api/sessions/revoke-others', {
        headers: { ...cookie(user.token), origin },
      });
      expect(res.status, origin).toBe(200);
    }
  });

  it('leaves safe methods and Bearer tokens alone, whatever the Origin', async () => {
    const user = await app.signupVerifiedAndLogin();
    const read = await app.request('GET', '/api/sessions', {
      headers: { ...cookie(user.token), origin: 'https://evil.example' },
    });
    expect(read.status).toBe(200);
    const bearer = await app.request('POST', '/api/sessions/revoke-others', {
      token: user.token,
      headers: { origin: 'https://evil.example' },
    });
    expect(bearer.status).toBe(200);
  });
});

describe('cookie origins in embedded mode', () => {
  it('accepts every loopback spelling of a loopback APP_URL on its port, and nothing else', () => {
    expect(cookieOrigins(['http://localhost:8080']).sort()).toEqual(
      ['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://localhost:8080'].sort(),
    );
    expect(cookieOrigins(['https://app.example.com'])).toEqual(['https://app.example.com']);
  });
});

describe('the console on the local gateway', () => {
  let app: TestApp;
  beforeAll(async () => {
    await ensureConsoleBuilt();
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('serves index.html with a strict CSP on / and on every deep link outside /api', async () => {
    for (const path of ['/', '/login', '/settings/security', '/orgs/acme/audit', '/verify-email?token=x']) {
      const res = await app.request('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.text).toContain('<div id="app">');
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain("'unsafe-eval'");
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('serves hashed assets as immutable files, and keeps /api answers JSON', async () => {
    const html = (await app.request('GET', '/')).text;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await app.request('GET', script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const json = await app.request('GET', '/api/no-such-thing');
    expect(json.status).toBe(404);
    expect(json.body.error.code).toBe('NOT_FOUND');
    const traversal = await app.request('GET', '/assets/..%2f..%2fpackage.json');
    expect(traversal.text).not.toContain('"devDependencies"');
  });

  it('lists the local outbox at /api/dev/mailbox in embedded mode', async () => {
    const email = `mailbox-${Date.now()}@example.com`;
    await app.request('POST', '/api/accounts/signup', {
      body: { email, password: 'a long enough passphrase 42', name: 'Mailbox' },
    });
    await app.settle();
    const res = await app.request('GET', '/api/dev/mailbox');
    expect(res.status).toBe(200);
    const mail = res.body.messages.find((m: { to: string }) => m.to === email);
    expect(mail.action.type).toBe('verify-email');
    expect(mail.action.url).toContain('/verify-email?token=');
  });

  it('production sets the same CSP on console pages (the load balancer, infra/edge.tf)', () => {
    const edge = readFileSync(new URL('../../infra/edge.tf', import.meta.url), 'utf8');
    const csp = /"Content-Security-Policy: ([^"]+)"/.exec(edge)?.[1];
    expect(csp).toBe(consoleCsp);
    expect(edge).toContain('not_found_page   = "index.html"');
  });
});

describe('the mailbox outside embedded mode', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { MAIL_TRANSPORT: 'smtp' } });
  });
  afterAll(() => app.stop());

  it('does not exist when mail goes out by SMTP (production), and the edge has no route to it', async () => {
    const res = await app.request('GET', '/api/dev/mailbox');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(loadRewrites().some((r) => r.matches('/api/dev/mailbox'))).toBe(false);
  });
});
