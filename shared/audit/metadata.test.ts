import { describe, expect, it } from 'vitest';
import { accountActions, orgActions } from './actions.js';
import { accountMetadataSchemas, orgMetadataSchemas, personalDataPath } from './metadata.js';

describe('audit metadata never holds an email address', () => {
  it('finds an email key at any depth, in objects and arrays', () => {
    expect(personalDataPath({ role: 'viewer' })).toBeNull();
    expect(personalDataPath({ email: 'a@example.com' })).toBe('email');
    expect(personalDataPath({ invitationsRevoked: [{ id: 'x', inviteeEmail: 'a@example.com' }] })).toBe(
      'invitationsRevoked.0.inviteeEmail',
    );
  });

  it('every org and account action refuses metadata with an email in it', () => {
    const withEmail = { email: 'a@example.com', nested: { e_mail: 'b@example.com' } };
    for (const action of orgActions) {
      expect(orgMetadataSchemas[action].safeParse(withEmail).success, action).toBe(false);
    }
    for (const action of accountActions) {
      expect(accountMetadataSchemas[action].safeParse(withEmail).success, action).toBe(false);
    }
  });
});
