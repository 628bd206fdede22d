import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fail } from '../errors/codes.js';
import { PLATFORM_BODY_LIMIT_BYTES, tooLarge } from './body.js';
import { clientIp } from './client-ip.js';
import { readCookie, sessionCookie } from './cookies.js';
import { errorPayload, tryAgainIn } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { compilePath, matchPath, normalizedPath } from './path.js';
import { defineRoute, json } from './route.js';
import { createHttpFunction } from './router.js';

const request = (socket: string, xff?: string) =>
  ({
    socket: { remoteAddress: socket },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('clientIp', () => {
  it('is the socket address with no trusted proxies, whatever X-Forwarded-For says', () => {
    expect(clientIp(request('198.51.100.7', '1.2.3.4'), 0)).toBe('198.51.100.7');
    expect(clientIp(request('198.51.100.7', 'not-an-ip'), 0)).toBe('198.51.100.7');
  });

  it('is the n-th entry from the right with n trusted hops, never the leftmost', () => {
    const req = request('10.0.0.1', 'spoofed, 203.0.113.5, 10.1.1.1');
    expect(clientIp(req, 1)).toBe('10.1.1.1');
    expect(clientIp(req, 2)).toBe('203.0.113.5');
  });

  it('ignores whatever the client wrote to the left of the picked entry', () => {
    expect(clientIp(request('10.0.0.1', 'not-an-ip, unknown, 203.0.113.5'), 1)).toBe('203.0.113.5');
    expect(clientIp(request('10.0.0.1', '1.2.3.4, 5.6.7.8, 203.0.113.5'), 1)).toBe('203.0.113.5');
  });

  it('falls back to the oldest entry when the chain is shorter than the hops, and to the socket with no header', () => {
    expect(clientIp(request('10.0.0.1', '203.0.113.5'), 3)).toBe('203.0.113.5');
    expect(clientIp(request('10.0.0.1'), 1)).toBe('10.0.0.1');
    expect(clientIp(request('10.0.0.1', ' , '), 1)).toBe('10.0.0.1');
  });

  it('is unknown (null) when the picked entry is not an IP address', () => {
    for (const entry of [
      'not-an-ip',
      'unknown',
      'localhost',
      '999.1.1.1',
      '010.1.1.1',
      '0x7f.0.0.1',
      '127.1',
      '2130706433',
      '1.2.3.4.5',
      'fe80::1%eth0',
      '2001:db8::1::2',
      '[2001:db8::1',
      '1.2.3.4:99999',
      '<script>',
    ]) {
      expect(clientIp(request('10.0.0.1', `203.0.113.5, ${entry}`), 1), entry).toBeNull();
    }
    // The oldest entry of a short chain is validated like any other.
    expect(clientIp(request('10.0.0.1', 'not-an-ip'), 2)).toBeNull();
    expect(clientIp(request(''), 0)).toBeNull();
  });

  it('normalizes valid entries: IPv4-mapped IPv6, brackets, ports and IPv6 spelling', () => {
    expect(clientIp(request('10.0.0.1', '::ffff:203.0.113.5'), 1)).toBe('203.0.113.5');
    expect(clientIp(request('10.0.0.1', '::FFFF:cb00:7105'), 1)).toBe('203.0.113.5');
    expect(clientIp(request('10.0.0.1', '203.0.113.5:4711'), 1)).toBe('203.0.113.5');
    expect(clientIp(request('10.0.0.1', '[2001:DB8:0:0::1]:443'), 1)).toBe('2001:db8::1');
    expect(clientIp(request('10.0.0.1', '[2001:db8::1]'), 1)).toBe('2001:db8::1');
    expect(clientIp(request('10.0.0.1', '2001:0db8:0000:0000:0000:0000:0000:0001'), 1)).toBe('2001:db8::1');
  });

  it('strips the IPv4-mapped prefix of dual-stack sockets', () => {
    expect(clientIp(request('::ffff:192.0.2.1'), 0)).toBe('192.0.2.1');
    expect(clientIp(request('::1'), 0)).toBe('::1');
  });
});

describe('tryAgainIn', () => {
  it('says the Retry-After seconds in words, rounded up', () => {
    expect(tryAgainIn(1)).toBe('Try again in 1 second.');
    expect(tryAgainIn(59)).toBe('Try again in 59 seconds.');
    expect(tryAgainIn(60)).toBe('Try again in 1 minute.');
    expect(tryAgainIn(720)).toBe('Try again in 12 minutes.');
    expect(tryAgainIn(721)).toBe('Try again in 13 minutes.');
    expect(tryAgainIn(3600)).toBe('Try again in 1 hour.');
    expect(tryAgainIn(5400)).toBe('Try again in 1 hour and 30 minutes.');
    expect(tryAgainIn(7260)).toBe('Try again in 2 hours and 1 minute.');
  });

  it('puts the words and the Retry-After header on every RATE_LIMITED answer', () => {
    const payload = errorPayload(
      fail('RATE_LIMITED', 'Too many sign-in attempts.', { retryAfterSeconds: 720 }),
    );
    expect(payload.status).toBe(429);
    expect(payload.headers['retry-after']).toBe('720');
    expect((payload.body as any).error.message).toBe('Too many sign-in attempts. Try again in 12 minutes.');
  });
});

describe('paths', () => {
  it('normalizes dot segments, including encoded ones', () => {
    expect(normalizedPath('/api/health/../orgs/x')).toBe('/api/orgs/x');
    expect(normalizedPath('/api/health/%2e%2e/orgs/x')).toBe('/api/orgs/x');
    expect(normalizedPath('/api/./login/')).toBe('/api/login');
    expect(normalizedPath('/api/login?x=1')).toBe('/api/login');
  });

  it('answers plain paths (which skip the URL parser) exactly as the URL parser would', () => {
    const viaUrl = (raw: string) => {
      const pathname = new URL(`http://localhost${raw}`).pathname;
      return pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    };
    for (const raw of [
      '/',
      '/api',
      '/api/',
      '/api/sessions/current',
      '/api/sessions/current/',
      '/api//sessions',
      '/api/orgs/0b0e2a4c-1d2e-4f5a-8b9c-0d1e2f3a4b5c/members?limit=5',
      '/api/sessions/current?next=/../x',
      '/API/Sessions_Current-x',
      '/api/a/.',
      '/api/a/..',
      '/api/%2e%2e/x',
      '/api\\..\\x',
      '/api/a#frag?x',
      '/api/\tsessions',
    ]) {
      expect(normalizedPath(raw), raw).toBe(viaUrl(raw));
    }
  });

  it('matches parameters and refuses ones that decode to a slash or do not decode', () => {
    const compiled = compilePath('/api/sessions/:id');
    expect(matchPath(compiled, '/api/sessions/abc')).toEqual({ id: 'abc' });
    expect(matchPath(compiled, '/api/sessions/a%2Fb')).toBeNull();
    expect(matchPath(compiled, '/api/sessions/%E0%A4%A')).toBeNull();
    expect(matchPath(compiled, '/api/sessions/abc/def')).toBeNull();
  });
});

describe('cookies', () => {
  it('builds a __Host- session cookie with HttpOnly, Secure, SameSite=Lax, Path=/ and no Domain', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const cookie = sessionCookie('tok', new Date('2026-01-01T01:00:00Z'), now);
    expect(cookie).toBe('__Host-sf_session=tok; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Lax');
  });

  it('reads one cookie among several', () => {
    expect(readCookie('a=1; __Host-sf_session=xyz; b=2', '__Host-sf_session')).toBe('xyz');
    expect(readCookie('a=1', '__Host-sf_session')).toBeUndefined();
    expect(readCookie(undefined, 'a')).toBeUndefined();
  });
});

describe('OpenAPI', () => {
  it('documents paths, parameters, bodies and security from the route schemas', () => {
    const route = defineRoute({
      method: 'POST',
      path: '/api/things/:id',
      summary: 'Do a thing',
      tags: ['things'],
      auth: { kind: 'session' },
      body: z.strictObject({ name: z.string().min(1) }),
      query: z.object({ limit: z.coerce.number().optional() }),
      responses: { 200: { description: 'Done', schema: z.object({ ok: z.boolean() }) } },
      handler: async () => json(200, { ok: true }),
    });
    const doc = buildOpenApi([route], { version: 't' }) as any;
    const op = doc.paths['/api/things/{id}'].post;
    expect(doc.openapi).toBe('3.1.0');
    expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      'path:id',
      'query:limit',
    ]);
    expect(op.requestBody.content['application/json'].schema.required).toEqual(['name']);
    expect(op.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(op.security).toEqual([{ bearer: [] }, { sessionCookie: [] }]);
    expect(op.responses['200'].content['application/json'].schema.properties.ok.type).toBe('boolean');
  });

  it('documents the refusals an auth declaration adds: SSO_REQUIRED on org routes, bound sessions on personal routes', () => {
    const route = (auth: Parameters<typeof defineRoute>[0]['auth'], responses = {}) =>
      defineRoute({
        method: 'GET',
        path: '/api/x',
        summary: 'x',
        tags: ['x'],
        auth,
        responses: { 200: { description: 'ok' }, ...responses },
        handler: async () => json(200),
      });
    const forbidden = (r: ReturnType<typeof route>) =>
      (buildOpenApi([r], { version: 't' }) as any).paths['/api/x'].get.responses['403']?.description;
    expect(forbidden(route({ kind: 'org', minRole: 'viewer' }))).toMatch(/^SSO_REQUIRED/);
    expect(forbidden(route({ kind: 'session' }))).toMatch(/personal_session/);
    expect(forbidden(route({ kind: 'session', boundSessions: true }))).toBeUndefined();
    expect(forbidden(route({ kind: 'none' }))).toBeUndefined();
    // A route's own 403 keeps its words, with the declaration's appended.
    expect(
      forbidden(route({ kind: 'session', stepUp: true }, { 403: { description: 'STEP_UP_REQUIRED' } })),
    ).toMatch(/^STEP_UP_REQUIRED; INSUFFICIENT_ROLE/);
  });
});

describe('route tables', () => {
  it('refuse a route whose body limit is above what a deployed unit receives (32 MiB)', () => {
    const route = (bodyLimitBytes: number) =>
      defineRoute({
        method: 'POST',
        path: '/api/x',
        summary: 'x',
        tags: [],
        auth: { kind: 'none' },
        bodyLimitBytes,
        responses: {},
        handler: async () => json(204),
      });
    const edge = async () => {
      throw new Error('not called');
    };
    expect(() => createHttpFunction('x', [route(PLATFORM_BODY_LIMIT_BYTES + 1)], edge)).toThrow(
      /body limit above/,
    );
    expect(() => createHttpFunction('x', [route(PLATFORM_BODY_LIMIT_BYTES)], edge)).not.toThrow();
  });

  it('refuse a fixed path declared after a parameterized one of the same method that matches it', () => {
    const route = (method: 'GET' | 'POST', path: string) =>
      defineRoute({
        method,
        path,
        summary: 'x',
        tags: [],
        auth: { kind: 'none' },
        responses: {},
        handler: async () => json(204),
      });
    const edge = async () => {
      throw new Error('not called');
    };
    expect(() =>
      createHttpFunction('x', [route('GET', '/api/x/:id'), route('GET', '/api/x/current')], edge),
    ).toThrow(/declared after \/api\/x\/:id/);
    // Declared first, or under another method, the fixed path is unambiguous.
    expect(() =>
      createHttpFunction('x', [route('GET', '/api/x/current'), route('GET', '/api/x/:id')], edge),
    ).not.toThrow();
    expect(() =>
      createHttpFunction('x', [route('POST', '/api/x/:id'), route('GET', '/api/x/current')], edge),
    ).not.toThrow();
  });

  it('say limits in words', () => {
    expect(tooLarge(4 * 1024 * 1024).message).toBe(
      'The request body is larger than 4 MiB, the most accepted.',
    );
    expect(tooLarge(1000, 'The upload').message).toBe(
      'The upload is larger than 1000 bytes, the most accepted.',
    );
  });
});
