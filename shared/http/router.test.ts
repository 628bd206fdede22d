import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fail } from '../errors/codes.js';
import { memoryLogger } from '../log/logger.js';
import { createAuthenticator } from './auth.js';
import { securityHeaders } from './headers.js';
import { defineRoute, json } from './route.js';
import { createHttpFunction, type HttpEdge } from './router.js';

const routes = [
  defineRoute({
    method: 'POST',
    path: '/api/t/echo',
    summary: 'Echo',
    tags: ['t'],
    auth: { kind: 'none' },
    body: z.strictObject({ text: z.string() }),
    bodyLimitBytes: 64,
    responses: { 200: { description: 'The text' } },
    handler: async ({ body }) => json(200, { text: body.text }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/t/private',
    summary: 'A route that sets its own cache policy',
    tags: ['t'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'Nothing' } },
    handler: async () => json(200, { ok: true }, { 'Cache-Control': 'private, max-age=5' }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/t/text',
    summary: 'Fails as text',
    tags: ['t'],
    auth: { kind: 'none' },
    errorFormat: 'text',
    responses: { 200: { description: 'Never' } },
    handler: async () => fail('CONFLICT', 'Not now.'),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/t/scim',
    summary: 'Fails as SCIM',
    tags: ['t'],
    auth: { kind: 'none' },
    errorFormat: 'scim',
    responses: { 200: { description: 'Never' } },
    handler: async () => fail('NOT_FOUND', 'No such user.'),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/t/raw',
    summary: 'Bytes',
    tags: ['t'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'Bytes' } },
    handler: async () => ({
      status: 200,
      raw: Buffer.from('raw bytes'),
      headers: { 'content-type': 'text/plain' },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/t/boom',
    summary: 'Throws',
    tags: ['t'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'Never' } },
    handler: async () => {
      throw new Error('boom');
    },
  }),
];

const logger = memoryLogger();
const edge: HttpEdge<undefined> = {
  deps: undefined,
  logger,
  now: () => new Date('2026-03-02T09:00:00Z'),
  trustedProxyHops: 0,
  authenticate: createAuthenticator({ sessions: {} as never }),
};
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer(createHttpFunction('t', routes, async () => edge));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Answer {
  status: number;
  /** Raw header lines as sent, so a header sent twice shows twice. */
  rawHeaders: string[];
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request; `parts` of the body are sent `gapMs` apart (chunked when there is no content-length). */
function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; parts?: string[]; gapMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, headers: res.headers, body }),
      );
    });
    req.on('error', reject);
    const parts = [...(options.parts ?? [])];
    const next = () => {
      const part = parts.shift();
      if (part === undefined) {
        req.end();
        return;
      }
      req.write(part);
      setTimeout(next, options.gapMs ?? 0);
    };
    next();
  });
}

const jsonHeaders = (body: string) => ({
  'content-type': 'application/json',
  'content-length': String(Buffer.byteLength(body)),
});

/** Every security header exactly once, and one request id. */
function expectAnswerHeaders(answer: Answer, except: string[] = []) {
  const names = answer.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  for (const [name, value] of Object.entries(securityHeaders)) {
    if (except.includes(name)) continue;
    expect(answer.headers[name], name).toBe(value);
    expect(
      names.filter((n) => n === name),
      name,
    ).toHaveLength(1);
  }
  expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(names.filter((n) => n === 'x-request-id')).toHaveLength(1);
}

describe('every answer carries the security headers and a request id', () => {
  it('on a JSON answer, with its content type and length', async () => {
    const body = JSON.stringify({ text: 'hi' });
    const answer = await call('POST', '/api/t/echo', { headers: jsonHeaders(body), parts: [body] });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ text: 'hi' });
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.body)));
    expectAnswerHeaders(answer);
  });

  it("on a route's own header of the same name, which replaces ours whatever its case, sent once", async () => {
    const answer = await call('GET', '/api/t/private');
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('private, max-age=5');
    expect(answer.rawHeaders.filter((h) => h.toLowerCase() === 'cache-control')).toHaveLength(1);
    expectAnswerHeaders(answer, ['cache-control']);
  });

  it('on refusals: unknown path, wrong method, invalid JSON, wrong media type', async () => {
    const unknown = await call('GET', '/api/t/nothing');
    expect(unknown.status).toBe(404);
    expectAnswerHeaders(unknown);
    const method = await call('DELETE', '/api/t/echo');
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('POST');
    expectAnswerHeaders(method);
    const invalid = await call('POST', '/api/t/echo', { headers: jsonHeaders('{no'), parts: ['{no'] });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body).error.issues).toEqual([
      { path: '', message: 'the body is not valid JSON' },
    ]);
    expectAnswerHeaders(invalid);
    const type = await call('POST', '/api/t/echo', {
      headers: { 'content-type': 'text/plain', 'content-length': '2' },
      parts: ['hi'],
    });
    expect(type.status).toBe(415);
    expectAnswerHeaders(type);
  });

  it('on text, SCIM and raw answers', async () => {
    const text = await call('GET', '/api/t/text');
    expect(text.status).toBe(409);
    expect(text.body).toBe('Not now.\n');
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expectAnswerHeaders(text);
    const scim = await call('GET', '/api/t/scim');
    expect(scim.status).toBe(404);
    expect(scim.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(scim.rawHeaders.filter((h) => h.toLowerCase() === 'content-type')).toHaveLength(1);
    expectAnswerHeaders(scim);
    const raw = await call('GET', '/api/t/raw');
    expect(raw.status).toBe(200);
    expect(raw.body).toBe('raw bytes');
    expect(raw.headers['content-type']).toBe('text/plain');
    expectAnswerHeaders(raw);
  });

  it('on an unexpected error, answered 500 INTERNAL without its message', async () => {
    const answer = await call('GET', '/api/t/boom');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body).error.code).toBe('INTERNAL');
    expect(answer.body).not.toContain('boom');
    expectAnswerHeaders(answer);
  });
});

describe('request bodies', () => {
  it('a body that arrives with its headers and one that arrives in pieces read the same', async () => {
    const body = JSON.stringify({ text: 'in pieces' });
    const whole = await call('POST', '/api/t/echo', { headers: jsonHeaders(body), parts: [body] });
    const pieces = await call('POST', '/api/t/echo', {
      headers: jsonHeaders(body),
      parts: [body.slice(0, 5), body.slice(5, 12), body.slice(12)],
      gapMs: 30,
    });
    expect(whole.status).toBe(200);
    expect(pieces.status).toBe(200);
    expect(JSON.parse(pieces.body)).toEqual({ text: 'in pieces' });
    expect(pieces.body).toBe(whole.body);
  });

  it("a chunked body over the route's limit is refused with 413, whether it has all arrived or not", async () => {
    const big = JSON.stringify({ text: 'x'.repeat(100) });
    const chunked = { 'content-type': 'application/json' };
    const arrived = await call('POST', '/api/t/echo', { headers: chunked, parts: [big] });
    expect(arrived.status).toBe(413);
    expect(JSON.parse(arrived.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    const arriving = await call('POST', '/api/t/echo', {
      headers: chunked,
      parts: [big.slice(0, 40), big.slice(40)],
      gapMs: 30,
    });
    expect(arriving.status).toBe(413);
  });

  it('a chunked body within the limit is read whole', async () => {
    const body = JSON.stringify({ text: 'chunked' });
    const answer = await call('POST', '/api/t/echo', {
      headers: { 'content-type': 'application/json' },
      parts: [body.slice(0, 4), body.slice(4)],
      gapMs: 20,
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ text: 'chunked' });
  });
});
