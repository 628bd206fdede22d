import { describe, expect, it } from 'vitest';
import { checkAddress } from './address-policy.js';

describe('the address policy', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
  ])('refuses %s in production', (address) => {
    expect(checkAddress(address, false).ok).toBe(false);
  });

  it.each(['8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('lets public %s through', (address) => {
    expect(checkAddress(address, false).ok).toBe(true);
  });

  it('lets loopback and private ranges through in embedded mode, never metadata, unspecified or multicast', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '::1', 'fd00::1']) {
      expect(checkAddress(address, true).ok, address).toBe(true);
    }
    for (const address of [
      '169.254.169.254',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
    ]) {
      expect(checkAddress(address, true).ok, address).toBe(false);
    }
  });
});
