import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../log/metrics.js';
import { createOutboundFetch, OutboundError, type OutboundSettings, type Resolver } from './client.js';

const logger = createLogger('silent');
const servers: Server[] = [];

async function serve(handler: RequestListener): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Production settings: https only, public addresses only. */
const production = (extra: Partial<OutboundSettings> = {}) =>
  createOutboundFetch({ allowPrivate: false, allowHttp: false, logger, ...extra });
/** Embedded settings: the local test servers are plain http on loopback. */
const embedded = (extra: Partial<OutboundSettings> = {}) =>
  createOutboundFetch({ allowPrivate: true, allowHttp: true, logger, ...extra });

async function refusal(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundError);
  // The caller-facing message never says what went wrong.
  expect((error as Error).message).toBe('The remote service could not be reached.');
  return error as OutboundError;
}

describe('the outbound client in production mode', () => {
  it.each([
    'https://127.0.0.1/',
    'https://10.0.0.1/',
    'https://169.254.169.254/computeMetadata/v1/',
    'https://[::1]/',
    'https://[fd00::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:a00:1]/',
  ])('refuses %s before connecting', async (url) => {
    const error = await refusal(production()(url));
    expect(error.reason).toMatch(/^refused: /);
  });

  it('refuses a name that resolves to a private address, or to a public and a private one', async () => {
    const resolve: Resolver = async (name) =>
      name === 'inside.example'
        ? [{ address: '10.1.2.3', family: 4 }]
        : [
            { address: '93.184.216.34', family: 4 },
            { address: '192.168.0.10', family: 4 },
          ];
    expect((await refusal(production({ resolve })('https://inside.example/'))).reason).toContain('10.1.2.3');
    expect((await refusal(production({ resolve })('https://mixed.example/'))).reason).toContain(
      '192.168.0.10',
    );
  });

  it('refuses plain http, and counts each refusal', async () => {
    const metrics = createMetrics(logger);
    const fetch = production({ metrics, resolve: async () => [{ address: '93.184.216.34', family: 4 }] });
    expect((await refusal(fetch('http://example.com/.well-known/openid-configuration'))).reason).toBe(
      'scheme http: is not allowed',
    );
    await refusal(fetch('https://10.0.0.1/'));
    expect(metrics.value('outbound_refused')).toBe(2);
  });
});

describe('the outbound client against a live server', () => {
  it('fetches a JSON document, sending the name as Host', async () => {
    let host = '';
    const port = await serve((req, res) => {
      host = req.headers.host ?? '';
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const response = await embedded({ resolve })(`http://idp.example:${port}/doc`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(host).toBe(`idp.example:${port}`);
  });

  it('connects to the address it checked, even when DNS answers differently the next time (rebinding)', async () => {
    const port = await serve((_req, res) => res.end('checked'));
    const answers = ['127.0.0.1', '169.254.169.254'];
    let lookups = 0;
    const resolve: Resolver = async () => [{ address: answers[Math.min(lookups++, 1)] as string, family: 4 }];
    const response = await embedded({ resolve })(`http://rebind.example:${port}/`);
    expect(await response.text()).toBe('checked');
    // One resolution, checked and used for the connection; the socket never asked DNS again.
    expect(lookups).toBe(1);
    // The second answer, had it been asked for, is refused.
    expect((await refusal(embedded({ resolve })(`http://rebind.example:${port}/`))).reason).toContain(
      '169.254.169.254',
    );
  });

  it('treats a redirect as an error and does not follow it', async () => {
    let followed = false;
    const port = await serve((req, res) => {
      if (req.url === '/target') followed = true;
      res.writeHead(302, { location: '/target' }).end();
    });
    expect((await refusal(embedded()(`http://127.0.0.1:${port}/`))).reason).toBe('redirect (302) refused');
    expect(followed).toBe(false);
  });

  it('refuses a body over the cap, declared or streamed', async () => {
    const big = Buffer.alloc(64 * 1024, 'x');
    const port = await serve((req, res) => {
      if (req.url === '/declared') {
        res.setHeader('content-length', String(big.length));
        res.end(big);
        return;
      }
      // Chunked: no length announced, the cap must hold while reading.
      res.write(big.subarray(0, 8 * 1024));
      res.end(big.subarray(8 * 1024));
    });
    const fetch = embedded({ maxResponseBytes: 16 * 1024 });
    expect((await refusal(fetch(`http://127.0.0.1:${port}/declared`))).reason).toMatch(/over the cap/);
    expect((await refusal(fetch(`http://127.0.0.1:${port}/streamed`))).reason).toMatch(/body over/);
  });

  it('gives up on a server that accepts the connection but never answers', async () => {
    const port = await serve(() => {
      // never answers
    });
    const started = Date.now();
    const error = await refusal(embedded({ timeoutMs: 300 })(`http://127.0.0.1:${port}/`));
    expect(error.reason).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails a closed port with the same generic message, the cause kept for the logs', async () => {
    const closed = await serve(() => undefined);
    servers.pop()?.close();
    const error = await refusal(embedded()(`http://127.0.0.1:${closed}/`));
    expect(error.reason).toMatch(/ECONNREFUSED/);
  });

  it('sends the method, headers and form body the token endpoint needs', async () => {
    let seen: { method?: string; type?: string; body: string } = { body: '' };
    const port = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen = { method: req.method, type: req.headers['content-type'], body };
        res.end('{}');
      });
    });
    await embedded()(`http://127.0.0.1:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c' }),
    });
    expect(seen).toEqual({
      method: 'POST',
      type: 'application/x-www-form-urlencoded',
      body: 'grant_type=authorization_code&code=c',
    });
  });
});
