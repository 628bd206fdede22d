import type { KeyRing } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import type { SessionService } from '../sessions/service.js';
import { OrgDeletion } from './deletion.js';
import { OrgDirectory } from './directory.js';
import { OrgMembershipGate } from './gate.js';
import { InvitationService } from './invitations.js';
import { MemberService } from './members.js';
import { OrgSessionAdmin } from './org-sessions.js';
import { PolicyService } from './policy.js';
import { OrgSessionReach } from './session-reach.js';
import { OrgStore } from './store.js';

export interface OrgDeps {
  db: Db;
  sessions: SessionService;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
  /** ORG_DELETION_GRACE_DAYS and AUDIT_RETENTION_DAYS. */
  lifecycle: { graceDays: number; auditRetentionDays: number };
}

/** The orgs domain as the runtime wires it. */
export function createOrgServices(deps: OrgDeps) {
  const store = new OrgStore(deps.db);
  const reach = new OrgSessionReach(store, deps.sessions);
  return {
    store,
    reach,
    directory: new OrgDirectory(store),
    gate: new OrgMembershipGate(store, reach, deps.appUrl),
    invitations: new InvitationService(store, deps),
    members: new MemberService(store, deps.sessions, reach),
    policy: new PolicyService(store),
    sessionAdmin: new OrgSessionAdmin(store, reach),
    deletion: new OrgDeletion(store, reach, deps.lifecycle),
  };
}

export type OrgServices = ReturnType<typeof createOrgServices>;
