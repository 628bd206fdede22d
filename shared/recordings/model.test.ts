import { describe, expect, it } from 'vitest';
import { recordingControl } from './model.js';

const alice = { type: 'user', id: 'alice' };
const key = { type: 'api_key', id: 'alice' };

describe('recordingControl', () => {
  it('gives the starter control whatever their role, and nobody else below admin', () => {
    expect(recordingControl(alice, { actor: alice, role: 'member' })).toBe('starter');
    expect(recordingControl(alice, { actor: { type: 'user', id: 'bob' }, role: 'member' })).toBe('refused');
  });

  it('tells a user from an API key even when their ids are equal', () => {
    expect(recordingControl(alice, { actor: key, role: 'member' })).toBe('refused');
    expect(recordingControl(key, { actor: key, role: 'member' })).toBe('starter');
  });

  it('lets admins and owners act on anyone’s recording, as admins', () => {
    expect(recordingControl(alice, { actor: { type: 'user', id: 'carol' }, role: 'admin' })).toBe('admin');
    expect(recordingControl(alice, { actor: { type: 'api_key', id: 'k' }, role: 'owner' })).toBe('admin');
  });

  it('leaves a recording that names no starter to admins only', () => {
    const unknown = { type: 'user', id: null };
    expect(recordingControl(unknown, { actor: { type: 'user', id: 'x' }, role: 'member' })).toBe('refused');
    expect(recordingControl(unknown, { actor: { type: 'user', id: 'x' }, role: 'admin' })).toBe('admin');
  });
});
