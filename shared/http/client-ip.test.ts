import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { LOAD_BALANCER_IP, throughLoadBalancer } from '../../tests/helpers/load-balancer.js';
import { clientIp } from './client-ip.js';

const GFE = '35.191.0.1';
const viaLoadBalancer = (client: string, clientSent?: string) =>
  ({
    socket: { remoteAddress: GFE },
    headers: throughLoadBalancer(client, clientSent),
  }) as unknown as IncomingMessage;

describe('clientIp behind the external Application Load Balancer (TRUSTED_PROXY_HOPS=2)', () => {
  it('is the address the load balancer saw, not its own and not the socket peer', () => {
    expect(clientIp(viaLoadBalancer('203.0.113.10'), 2)).toBe('203.0.113.10');
    expect(clientIp(viaLoadBalancer('2001:db8::7'), 2)).toBe('2001:db8::7');
  });

  it('ignores every prefix the client wrote, however many entries and whatever they look like', () => {
    for (const spoofed of [
      '198.51.100.1',
      '198.51.100.1, 198.51.100.2, 198.51.100.3',
      // A forged "client, load balancer" pair of its own: still only a prefix.
      `10.0.0.1, ${LOAD_BALANCER_IP}`,
      'unknown, , ::1',
      '127.0.0.1,',
    ]) {
      expect(clientIp(viaLoadBalancer('203.0.113.10', spoofed), 2), spoofed).toBe('203.0.113.10');
    }
  });

  it('with one hop too few every user would share the load balancer address; with none, the front end', () => {
    expect(clientIp(viaLoadBalancer('203.0.113.10', '198.51.100.1'), 1)).toBe(LOAD_BALANCER_IP);
    expect(clientIp(viaLoadBalancer('203.0.113.10'), 0)).toBe(GFE);
  });

  it('one hop too many hands the choice to the client', () => {
    expect(clientIp(viaLoadBalancer('203.0.113.10', '198.51.100.1'), 3)).toBe('198.51.100.1');
  });
});
