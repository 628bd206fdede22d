import { describe, expect, it } from 'vitest';
import { aaguidListSchema, challengeExpiry, counterVerdict, relyingParty, stepUpSatisfies } from './model.js';

describe('counterVerdict', () => {
  it.each([
    [0, 0, 'ok'],
    [0, 1, 'ok'],
    [5, 6, 'ok'],
    [5, 5, 'clone_suspected'],
    [7, 3, 'clone_suspected'],
    [7, 0, 'clone_suspected'],
  ] as const)('stored %i, received %i → %s', (stored, received, verdict) => {
    expect(counterVerdict(stored, received)).toBe(verdict);
  });
});

describe('stepUpSatisfies', () => {
  const model = '11111111-2222-3333-4444-555555555555';

  it('lets any method through for an org without requirePasskey', () => {
    expect(stepUpSatisfies(null, { method: 'password', aaguid: null })).toBe(true);
  });

  it('accepts only a passkey window where passkeys are required', () => {
    const policy = { allowedAaguids: null };
    expect(stepUpSatisfies(policy, { method: 'totp', aaguid: null })).toBe(false);
    expect(stepUpSatisfies(policy, { method: null, aaguid: null })).toBe(false);
    expect(
      stepUpSatisfies(policy, { method: 'passkey', aaguid: '00000000-0000-0000-0000-000000000000' }),
    ).toBe(true);
  });

  it('with allowedAaguids accepts only passkeys of those models, whatever the case', () => {
    const policy = { allowedAaguids: [model] };
    expect(stepUpSatisfies(policy, { method: 'passkey', aaguid: model.toUpperCase() })).toBe(true);
    expect(
      stepUpSatisfies(policy, { method: 'passkey', aaguid: '00000000-0000-0000-0000-000000000000' }),
    ).toBe(false);
    expect(stepUpSatisfies(policy, { method: 'passkey', aaguid: null })).toBe(false);
  });
});

describe('policy and relying-party inputs', () => {
  it('lower-cases AAGUIDs and refuses anything else', () => {
    expect(aaguidListSchema.parse(['AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE'])).toEqual([
      'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    ]);
    expect(aaguidListSchema.safeParse(['yubikey']).success).toBe(false);
  });

  it('takes the RP ID from APP_URL and accepts every app origin', () => {
    expect(
      relyingParty('https://app.example.com', ['https://app.example.com', 'https://console.example.com']),
    ).toEqual({
      id: 'app.example.com',
      name: 'SessionForge',
      origins: ['https://app.example.com', 'https://console.example.com'],
    });
  });

  it('lets a challenge live five minutes', () => {
    expect(challengeExpiry(new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T00:05:00.000Z');
  });
});
