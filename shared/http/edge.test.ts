import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PLATFORM_BODY_LIMIT_BYTES, tooLarge } from './body.js';
import { clientIp } from './client-ip.js';
import { readCookie, sessionCookie } from './cookies.js';
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
  });

  it('is the n-th entry from the right with n trusted hops, never the leftmost', () => {
    const req = request('10.0.0.1', 'spoofed, 203.0.113.5, 10.1.1.1');
    expect(clientIp(req, 1)).toBe('10.1.1.1');
    expect(clientIp(req, 2)).toBe('203.0.113.5');
  });

  it('falls back to the oldest entry when the chain is shorter than the hops', () => {
    expect(clientIp(request('10.0.0.1', '203.0.113.5'), 3)).toBe('203.0.113.5');
    expect(clientIp(request('10.0.0.1'), 1)).toBe('10.0.0.1');
  });

  it('strips the IPv4-mapped prefix of dual-stack sockets', () => {
    expect(clientIp(request('::ffff:192.0.2.1'), 0)).toBe('192.0.2.1');
    expect(clientIp(request('::1'), 0)).toBe('::1');
  });
});

describe('paths', () => {
  it('normalizes dot segments, including encoded ones', () => {
    expect(normalizedPath('/api/health/../orgs/x')).toBe('/api/orgs/x');
    expect(normalizedPath('/api/health/%2e%2e/orgs/x')).toBe('/api/orgs/x');
    expect(normalizedPath('/api/./login/')).toBe('/api/login');
    expect(normalizedPath('/api/login?x=1')).toBe('/api/login');
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

  it('say limits in words', () => {
    expect(tooLarge(4 * 1024 * 1024).message).toBe(
      'The request body is larger than 4 MiB, the most accepted.',
    );
    expect(tooLarge(1000, 'The upload').message).toBe(
      'The upload is larger than 1000 bytes, the most accepted.',
    );
  });
});
