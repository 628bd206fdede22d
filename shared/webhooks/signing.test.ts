import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret } from './model.js';
import { signatureHeader, signers } from './signing.js';

describe('webhook signatures', () => {
  it('are byte for byte what the standardwebhooks package signs, for any secret, id, time and body', () => {
    for (let i = 0; i < 200; i++) {
      const secret = newWebhookSecret();
      const id = randomUUID();
      const at = new Date(1_700_000_000_000 + i * 7_919_000);
      const body = JSON.stringify({
        type: 'member.removed',
        data: { n: i, s: randomBytes(i).toString('base64') },
        é: '✓',
      });
      expect(signatureHeader(signers([secret]), id, at, body)).toBe(new Webhook(secret).sign(id, at, body));
    }
  });

  it('carry one signature per secret during a rotation, and the package verifies with either', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const id = randomUUID();
    const at = new Date();
    const body = '{"type":"webhook.test"}';
    const header = signatureHeader(signers([current, previous]), id, at, body);
    expect(header.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': header,
    };
    for (const secret of [current, previous])
      expect(new Webhook(secret).verify(body, headers)).toEqual({ type: 'webhook.test' });
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('secrets are whsec_ and 32 random bytes (the spec asks for 24 to 64)', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });
});
