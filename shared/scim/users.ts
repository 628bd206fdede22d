import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { normalizeEmail } from '../accounts/email.js';
import { issueToken } from '../accounts/one-time-tokens.js';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import type { KeyRing } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import { fail, type Result } from '../errors/codes.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import { isId, type OrgRole, raisesRole, rank } from '../orgs/model.js';
import { forgetRemoval } from '../orgs/removals.js';
import type { OrgSessionReach } from '../orgs/session-reach.js';
import type { OrgStore } from '../orgs/store.js';
import type { SessionService } from '../sessions/service.js';
import type { DomainStore } from '../sso/domain-store.js';
import { createExternalUser } from '../sso/external-users.js';
import { PROVISIONED_ROLE, type ScimFilter, type ScimPerson, type ScimRole } from './model.js';
import './tables.js';

/** The org's SCIM token acting: audit rows name it as a `system` actor with its id. */
export interface ScimActor {
  tokenId: string;
  orgId: string;
  ip: string | null;
}

export interface ScimUserDeps {
  db: Db;
  orgStore: OrgStore;
  reach: OrgSessionReach;
  sessions: SessionService;
  domains: DomainStore;
  mailKeys: () => Promise<KeyRing>;
  appUrl: string;
}

interface PersonRow {
  id: string;
  email: string;
  name: string;
  member_role: OrgRole | null;
  member_since: Date | null;
  external_id: string | null;
  invitation_id: string | null;
  suspended_at: Date | null;
  suspended_role: OrgRole | null;
  scim_created_at: Date | null;
  scim_updated_at: Date | null;
}

const OWNER_REFUSED =
  'Owners are managed in the console by an owner; SCIM can neither change nor suspend an owner.';

function refusedForOwner() {
  return fail('INSUFFICIENT_ROLE', OWNER_REFUSED);
}

function toPerson(row: PersonRow): ScimPerson {
  const state = row.member_role ? 'member' : row.suspended_at ? 'suspended' : 'invited';
  const createdAt = row.scim_created_at ?? row.member_since ?? new Date(0);
  return {
    userId: row.id,
    email: row.email,
    name: row.name,
    externalId: row.external_id,
    role: row.member_role ?? row.suspended_role,
    state,
    createdAt,
    updatedAt: row.scim_updated_at ?? createdAt,
  };
}

function actorOf(actor: ScimActor) {
  return { type: 'system' as const, id: actor.tokenId };
}

/**
 * The org's people as SCIM Users: its current members, plus the people SCIM suspended (their
 * membership row is gone, so every gate refuses them) and the existing accounts SCIM could only
 * invite. Every change commits with its audit row, and a suspension with the end of the person's
 * sessions in the org, in one transaction. A SCIM token reaches only its own org, never an owner.
 */
export class ScimUserService {
  constructor(private readonly deps: ScimUserDeps) {}

  /**
   * One page in user-id order, and how many match in all. A filter names one person (userName,
   * externalId, id), so it is resolved to that person first; the unfiltered page takes its ids
   * from the org's own ordered indexes (memberships, parked SCIM rows) and only then reads the
   * page's hundred people, so a page costs the same at any size of the org.
   */
  async list(
    orgId: string,
    filter: ScimFilter | null,
    page: { startIndex: number; count: number },
  ): Promise<{ total: number; people: ScimPerson[] }> {
    if (filter) {
      const userId = await this.#resolve(orgId, filter);
      const person = userId ? await this.get(orgId, userId) : null;
      const people = person && page.startIndex === 1 && page.count > 0 ? [person] : [];
      return { total: person ? 1 : 0, people };
    }
    // One statement (one round trip): the count, and the page's people joined to their ids.
    const rows = await sql<PersonRow & { total: number }>`
      select
        (select count(*) from memberships where org_id = ${orgId})::int
          + (select count(*) from scim_users su where su.org_id = ${orgId}
               and (su.suspended_at is not null or su.invitation_id is not null)
               and not exists (select 1 from memberships mm where mm.org_id = ${orgId} and mm.user_id = su.user_id))::int
          as total,
        d.*
      from (select 1) one
      left join lateral (
        ${this.#detailsSql(orgId)}
        join (
          select user_id from (${this.#idsSql(orgId)}) ids
          order by user_id limit ${page.count} offset ${page.startIndex - 1}
        ) page on page.user_id = u.id
      ) d on true
      order by d.id`.execute(this.deps.db);
    const total = rows.rows[0]?.total ?? 0;
    return { total, people: rows.rows.filter((r) => r.id !== null).map(toPerson) };
  }

  async get(orgId: string, userId: string, db: Db | Tx = this.deps.db): Promise<ScimPerson | null> {
    if (!isId(userId)) return null;
    const rows = await sql<PersonRow>`
      ${this.#detailsSql(orgId)}
      where u.id = ${userId}
        and (m.user_id is not null or s.suspended_at is not null or s.invitation_id is not null)`.execute(db);
    const row = rows.rows[0];
    return row ? toPerson(row) : null;
  }

  /** The one person a filter names, if any: by address, by the IdP's externalId, or by id. */
  async #resolve(orgId: string, filter: ScimFilter): Promise<string | null> {
    const db = this.deps.db;
    switch (filter.attribute) {
      case 'userName': {
        const row = await db
          .selectFrom('users')
          .select('id')
          .where('email_normalized', '=', normalizeEmail(filter.value))
          .executeTakeFirst();
        return row?.id ?? null;
      }
      case 'externalId': {
        const row = await db
          .selectFrom('scim_users')
          .select('user_id')
          .where('org_id', '=', orgId)
          .where('external_id', '=', filter.value)
          .executeTakeFirst();
        return row?.user_id ?? null;
      }
      case 'id':
        return isId(filter.value) ? filter.value : null;
      default:
        return null;
    }
  }

  /**
   * The org's people's ids: its members, then those SCIM suspended or invited who hold no
   * membership. Both halves come from (org_id, user_id) indexes, in order.
   */
  #idsSql(orgId: string) {
    return sql<{ user_id: string }>`
      select user_id from memberships where org_id = ${orgId}
      union all
      select su.user_id from scim_users su
      where su.org_id = ${orgId}
        and (su.suspended_at is not null or su.invitation_id is not null)
        and not exists (select 1 from memberships mm where mm.org_id = ${orgId} and mm.user_id = su.user_id)`;
  }

  /** A person with what the org and SCIM know of them (callers add the `where`). */
  #detailsSql(orgId: string) {
    return sql`
      select u.id, u.email, u.name, m.role as member_role, m.created_at as member_since,
        s.external_id, s.invitation_id, s.suspended_at, s.suspended_role,
        s.created_at as scim_created_at, s.updated_at as scim_updated_at
      from users u
      left join memberships m on m.org_id = ${orgId} and m.user_id = u.id
      left join scim_users s on s.org_id = ${orgId} and s.user_id = u.id`;
  }

  /**
   * POST /Users. A new address gets a password-less account (it signs in through the org's SSO)
   * and a membership. An existing account becomes a member only when the org verified its domain
   * and the account's owner confirmed the address; otherwise SCIM only invites it, and the person
   * accepts (SCIM never attaches someone else's account to an org on its own).
   */
  async create(
    actor: ScimActor,
    input: { email: string; name: string | null; externalId: string | null; active: boolean },
    now: Date,
  ): Promise<Result<{ person: ScimPerson; created: boolean }>> {
    const { db, orgStore, domains } = this.deps;
    const emailNormalized = normalizeEmail(input.email);
    const domain = emailNormalized.slice(emailNormalized.lastIndexOf('@') + 1);
    const holder = await domains.holder(domain);
    const ring = await this.deps.mailKeys();
    return db.transaction().execute(async (tx) => {
      const org = await orgStore.lockOrg(tx, actor.orgId);
      if (!org || org.deleted_at) return fail('NOT_FOUND');
      if (
        input.externalId !== null &&
        (await this.#externalIdTaken(tx, actor.orgId, input.externalId, null))
      ) {
        return fail('CONFLICT', 'Another user of this organization has this externalId.', {
          extra: { scimType: 'uniqueness' },
        });
      }
      const created = await createExternalUser(tx, { email: input.email, name: input.name }, now);
      if (created) {
        await this.#insertMembership(tx, actor.orgId, created.id, PROVISIONED_ROLE, null, now);
        await this.#upsertScimRow(tx, actor.orgId, created.id, { external_id: input.externalId }, now);
        await this.#audit(
          tx,
          actor,
          created.id,
          'scim.user_provisioned',
          {
            outcome: 'account_created',
            role: PROVISIONED_ROLE,
          },
          now,
        );
        if (!input.active) await this.#suspend(tx, actor, created.id, now);
        return { ok: true as const, person: await this.#mustGet(tx, actor.orgId, created.id), created: true };
      }
      const account = await tx
        .selectFrom('users')
        .select(['id', 'email', 'email_verified_at', 'disabled_at'])
        .where('email_normalized', '=', emailNormalized)
        .executeTakeFirstOrThrow();
      if (await this.get(actor.orgId, account.id, tx)) {
        return fail('CONFLICT', 'A user with this userName already exists in this organization.', {
          extra: { scimType: 'uniqueness' },
        });
      }
      const attach =
        holder?.orgId === actor.orgId && account.email_verified_at !== null && account.disabled_at === null;
      if (attach) {
        await this.#insertMembership(tx, actor.orgId, account.id, PROVISIONED_ROLE, null, now);
        await this.#upsertScimRow(
          tx,
          actor.orgId,
          account.id,
          { external_id: input.externalId, invitation_id: null, suspended_at: null, suspended_role: null },
          now,
        );
        await this.#audit(
          tx,
          actor,
          account.id,
          'scim.user_provisioned',
          {
            outcome: 'member_attached',
            role: PROVISIONED_ROLE,
          },
          now,
        );
        if (!input.active) await this.#suspend(tx, actor, account.id, now);
      } else {
        // An inactive User gets no invitation it could accept: it is recorded withdrawn, and sent
        // when the identity provider activates the User.
        const invitationId = await this.#invite(tx, ring, actor, org.name, account.email, now, input.active);
        await this.#upsertScimRow(
          tx,
          actor.orgId,
          account.id,
          {
            external_id: input.externalId,
            invitation_id: invitationId,
            suspended_at: null,
            suspended_role: null,
          },
          now,
        );
        await this.#audit(
          tx,
          actor,
          account.id,
          'scim.user_provisioned',
          {
            outcome: 'invited',
            role: PROVISIONED_ROLE,
            invitationId,
          },
          now,
        );
      }
      return { ok: true as const, person: await this.#mustGet(tx, actor.orgId, account.id), created: true };
    });
  }

  /**
   * PUT/PATCH: `externalId` and `active`. `active: false` suspends (membership gone, sessions in
   * the org ended, same transaction); `true` restores the suspended role. An invited person
   * becomes active only by accepting; `active: false` withdraws their invitation.
   */
  async update(
    actor: ScimActor,
    userId: string,
    change: { externalId?: string | null; active?: boolean },
    now: Date,
  ): Promise<Result<{ person: ScimPerson }>> {
    // Asked before the transaction (PGlite has one connection): activating an invited User may mail.
    const ring = change.active === true ? await this.deps.mailKeys() : null;
    return this.deps.db.transaction().execute(async (tx) => {
      const org = await this.deps.orgStore.lockOrg(tx, actor.orgId);
      if (!org || org.deleted_at) return fail('NOT_FOUND');
      const person = await this.get(actor.orgId, userId, tx);
      if (!person) return fail('NOT_FOUND', 'No such user in this organization.');
      if (person.role === 'owner') return refusedForOwner();
      if (change.externalId !== undefined && change.externalId !== person.externalId) {
        if (
          change.externalId !== null &&
          (await this.#externalIdTaken(tx, actor.orgId, change.externalId, userId))
        ) {
          return fail('CONFLICT', 'Another user of this organization has this externalId.', {
            extra: { scimType: 'uniqueness' },
          });
        }
        await this.#upsertScimRow(tx, actor.orgId, userId, { external_id: change.externalId }, now);
      }
      if (change.active === false && person.state === 'member') await this.#suspend(tx, actor, userId, now);
      if (change.active === true && person.state === 'suspended')
        await this.#reactivate(tx, actor, userId, now);
      if (change.active === false && person.state === 'invited')
        await this.#withdrawInvitation(tx, actor, userId, now);
      if (change.active === true && person.state === 'invited' && ring)
        await this.#inviteAgain(tx, ring, actor, org.name, userId, now);
      return { ok: true as const, person: await this.#mustGet(tx, actor.orgId, userId) };
    });
  }

  /**
   * DELETE: ends the membership and its sessions in the org at once, like a suspension, and
   * forgets what SCIM knew: the resource is gone (RFC 7644 §3.6). The account itself stays; a
   * later POST for the address starts over (an invitation, unless the org verified its domain).
   */
  async remove(actor: ScimActor, userId: string, now: Date): Promise<Result<{ removed: true }>> {
    return this.deps.db.transaction().execute(async (tx) => {
      const org = await this.deps.orgStore.lockOrg(tx, actor.orgId);
      if (!org || org.deleted_at) return fail('NOT_FOUND');
      const person = await this.get(actor.orgId, userId, tx);
      if (!person) return fail('NOT_FOUND', 'No such user in this organization.');
      if (person.role === 'owner') return refusedForOwner();
      if (person.state === 'member') await this.#suspend(tx, actor, userId, now, 'deleted');
      else {
        if (person.state === 'invited') await this.#revokeInvitation(tx, actor.orgId, userId, now);
        await this.#audit(tx, actor, userId, 'scim.user_deprovisioned', { outcome: 'deleted' }, now);
      }
      await tx
        .deleteFrom('scim_users')
        .where('org_id', '=', actor.orgId)
        .where('user_id', '=', userId)
        .execute();
      return { ok: true as const, removed: true as const };
    });
  }

  /** The members holding `role` (a SCIM group), in user-id order. */
  groupMembers(orgId: string, role: ScimRole): Promise<{ userId: string; email: string }[]> {
    return this.deps.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id as userId', 'users.email'])
      .where('memberships.org_id', '=', orgId)
      .where('memberships.role', '=', role)
      .orderBy('users.id')
      .execute();
  }

  /**
   * Group changes as role changes, all or nothing: `add` gives each listed member the group's
   * role, `remove` (and, with `replace`, whoever is left out) drops them to the lowest role. An
   * owner anywhere in the change refuses the whole of it. A raise ends the member's sessions in
   * the org (no earlier token carries the new role); a drop withdraws what they made beyond it.
   */
  async changeGroup(
    actor: ScimActor,
    role: ScimRole,
    change: { add: string[]; remove: string[]; replaceWith?: string[] },
    lowest: ScimRole,
    now: Date,
  ): Promise<Result<{ changed: number }>> {
    return this.deps.db.transaction().execute(async (tx) => {
      const org = await this.deps.orgStore.lockOrg(tx, actor.orgId);
      if (!org || org.deleted_at) return fail('NOT_FOUND');
      const targets = new Map<string, ScimRole>();
      if (change.replaceWith) {
        const current = await tx
          .selectFrom('memberships')
          .select('user_id')
          .where('org_id', '=', actor.orgId)
          .where('role', '=', role)
          .execute();
        for (const { user_id } of current) targets.set(user_id, lowest);
        for (const id of change.replaceWith) targets.set(id, role);
      }
      for (const id of change.remove) targets.set(id, lowest);
      for (const id of change.add) targets.set(id, role);
      // Taking someone out of the group moves them only if they are still in it: the caller's
      // list was read before this lock, and a console change since then stands.
      const leaving = new Set([...targets].filter(([, to]) => to !== role).map(([id]) => id));
      // Everything is checked before anything is written: a refusal leaves every role as it was.
      const moves: { userId: string; from: OrgRole | null; to: ScimRole }[] = [];
      for (const [userId, to] of targets) {
        if (!isId(userId)) {
          return fail(
            'VALIDATION_FAILED',
            `"${String(userId).slice(0, 64)}" is not a user of this organization.`,
            {
              extra: { scimType: 'invalidValue' },
            },
          );
        }
        const member = await this.deps.orgStore.membership(tx, actor.orgId, userId);
        if (member?.role === 'owner') return refusedForOwner();
        let suspendedRole: OrgRole | null = null;
        if (!member) {
          const suspended = await tx
            .selectFrom('scim_users')
            .select('suspended_role')
            .where('org_id', '=', actor.orgId)
            .where('user_id', '=', userId)
            .where('suspended_at', 'is not', null)
            .executeTakeFirst();
          if (!suspended) {
            return fail('VALIDATION_FAILED', `"${userId}" is not a member of this organization.`, {
              extra: { scimType: 'invalidValue' },
            });
          }
          suspendedRole = suspended.suspended_role;
        }
        if (leaving.has(userId) && (member?.role ?? suspendedRole) !== role) continue;
        if (member?.role !== to) moves.push({ userId, from: member?.role ?? null, to });
      }
      let changed = 0;
      for (const { userId, from, to } of moves) {
        if (from === null) {
          // A suspended person keeps the group for their re-activation.
          await tx
            .updateTable('scim_users')
            .set({ suspended_role: to, updated_at: now })
            .where('org_id', '=', actor.orgId)
            .where('user_id', '=', userId)
            .execute();
          continue;
        }
        await this.#setRole(tx, actor, userId, from, to, now);
        changed++;
      }
      return { ok: true as const, changed };
    });
  }

  async #setRole(tx: Tx, actor: ScimActor, userId: string, from: OrgRole, to: ScimRole, now: Date) {
    const { sessions, orgStore } = this.deps;
    await tx
      .updateTable('memberships')
      .set({ role: to })
      .where('org_id', '=', actor.orgId)
      .where('user_id', '=', userId)
      .execute();
    const revoked = raisesRole(from, to)
      ? await sessions.revokeAllForUserInOrg(tx, userId, actor.orgId, 'privilege_change', now)
      : [];
    await sessions.announceRevoked(tx, revoked, 'privilege_change', now);
    if (rank(to) < rank(from)) await orgStore.withdrawBeyondReach(tx, actor.orgId, userId, to, null, now);
    await this.#touch(tx, actor.orgId, userId, now);
    await this.#audit(tx, actor, userId, 'scim.group_changed', { from, to }, now);
  }

  async #suspend(
    tx: Tx,
    actor: ScimActor,
    userId: string,
    now: Date,
    outcome: 'suspended' | 'deleted' = 'suspended',
  ) {
    const member = await this.deps.orgStore.membership(tx, actor.orgId, userId);
    if (!member || member.role === 'owner') return;
    await tx
      .deleteFrom('memberships')
      .where('org_id', '=', actor.orgId)
      .where('user_id', '=', userId)
      .execute();
    const ended = await this.deps.reach.endAllOfUser(tx, userId, actor.orgId, 'scim_deprovisioned', now);
    await this.deps.orgStore.withdrawBeyondReach(tx, actor.orgId, userId, null, null, now);
    await this.#upsertScimRow(
      tx,
      actor.orgId,
      userId,
      { suspended_at: now, suspended_role: member.role, suspended_expires_at: member.expires_at },
      now,
    );
    await this.#audit(
      tx,
      actor,
      userId,
      'scim.user_deprovisioned',
      {
        outcome,
        role: member.role,
        sessionsRevoked: ended.revoked,
        sessionsCutOff: ended.cutOff,
      },
      now,
    );
  }

  async #reactivate(tx: Tx, actor: ScimActor, userId: string, now: Date) {
    const row = await tx
      .selectFrom('scim_users')
      .select(['suspended_role', 'suspended_expires_at'])
      .where('org_id', '=', actor.orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const role = row?.suspended_role ?? PROVISIONED_ROLE;
    // An expiry that passed while suspended is not renewed by re-activation.
    const expiresAt = row?.suspended_expires_at ?? null;
    await this.#insertMembership(tx, actor.orgId, userId, role, expiresAt, now);
    await this.#upsertScimRow(
      tx,
      actor.orgId,
      userId,
      { suspended_at: null, suspended_role: null, suspended_expires_at: null },
      now,
    );
    await this.#audit(tx, actor, userId, 'scim.user_provisioned', { outcome: 'reactivated', role }, now);
  }

  async #withdrawInvitation(tx: Tx, actor: ScimActor, userId: string, now: Date) {
    const withdrawn = await this.#revokeInvitation(tx, actor.orgId, userId, now);
    if (withdrawn) {
      await this.#audit(
        tx,
        actor,
        userId,
        'scim.user_deprovisioned',
        { outcome: 'invitation_withdrawn' },
        now,
      );
    }
  }

  async #revokeInvitation(tx: Tx, orgId: string, userId: string, now: Date): Promise<boolean> {
    const row = await tx
      .selectFrom('scim_users')
      .select('invitation_id')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row?.invitation_id) return false;
    const revoked = await tx
      .updateTable('invitations')
      .set({ revoked_at: now, revoked_reason: 'scim_deprovisioned' })
      .where('id', '=', row.invitation_id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return !!revoked;
  }

  /** An invited User made active again: a new invitation unless theirs is still pending. */
  async #inviteAgain(tx: Tx, ring: KeyRing, actor: ScimActor, orgName: string, userId: string, now: Date) {
    const row = await tx
      .selectFrom('scim_users')
      .innerJoin('users', 'users.id', 'scim_users.user_id')
      .leftJoin('invitations', 'invitations.id', 'scim_users.invitation_id')
      .select(['users.email', 'invitations.revoked_at', 'invitations.accepted_at', 'invitations.id'])
      .where('scim_users.org_id', '=', actor.orgId)
      .where('scim_users.user_id', '=', userId)
      .executeTakeFirst();
    if (!row || (row.id && !row.revoked_at && !row.accepted_at)) return;
    const invitationId = await this.#invite(tx, ring, actor, orgName, row.email, now);
    await this.#upsertScimRow(tx, actor.orgId, userId, { invitation_id: invitationId }, now);
    await this.#audit(
      tx,
      actor,
      userId,
      'scim.user_provisioned',
      { outcome: 'invited', role: PROVISIONED_ROLE, invitationId },
      now,
    );
  }

  /**
   * The invitation an existing account gets: the same mail and token as an admin's invitation.
   * Unsent (`send: false`, an inactive User) it is recorded already withdrawn: no token, no mail.
   */
  async #invite(
    tx: Tx,
    ring: KeyRing,
    actor: ScimActor,
    orgName: string,
    email: string,
    now: Date,
    send = true,
  ) {
    const id = randomUUID();
    await tx
      .insertInto('invitations')
      .values({
        id,
        org_id: actor.orgId,
        email,
        email_normalized: normalizeEmail(email),
        role: PROVISIONED_ROLE,
        membership_expires_at: null,
        invited_by: null,
        created_at: now,
        accepted_at: null,
        accepted_by: null,
        revoked_at: send ? null : now,
        revoked_reason: send ? null : 'scim_deprovisioned',
      })
      .execute();
    if (!send) return id;
    const token = await issueToken(tx, 'invitation', now, { subject: id });
    await queueMail(
      tx,
      ring,
      renderMail(this.deps.appUrl, { type: 'invitation', to: email, orgName, role: PROVISIONED_ROLE, token }),
      now,
    );
    await appendAudit(tx, {
      orgId: actor.orgId,
      action: 'member.invited',
      actor: actorOf(actor),
      target: { type: 'invitation', id },
      metadata: { role: PROVISIONED_ROLE, via: 'scim' },
      ip: actor.ip,
      now,
    });
    return id;
  }

  async #insertMembership(
    tx: Tx,
    orgId: string,
    userId: string,
    role: OrgRole,
    expiresAt: Date | null,
    now: Date,
  ) {
    await tx
      .insertInto('memberships')
      .values({ org_id: orgId, user_id: userId, role, expires_at: expiresAt, created_at: now })
      .onConflict((oc) => oc.columns(['org_id', 'user_id']).doNothing())
      .execute();
    // The org's identity provider provisioning them is a deliberate way back, like an invitation.
    await forgetRemoval(tx, orgId, userId);
  }

  async #upsertScimRow(
    tx: Tx,
    orgId: string,
    userId: string,
    fields: Partial<{
      external_id: string | null;
      invitation_id: string | null;
      suspended_at: Date | null;
      suspended_role: OrgRole | null;
      suspended_expires_at: Date | null;
    }>,
    now: Date,
  ) {
    const { suspended_role, ...rest } = fields;
    const values = {
      ...rest,
      ...(suspended_role !== undefined ? { suspended_role: suspended_role as ScimRole | null } : {}),
    };
    await tx
      .insertInto('scim_users')
      .values({
        org_id: orgId,
        user_id: userId,
        external_id: null,
        invitation_id: null,
        suspended_at: null,
        suspended_role: null,
        suspended_expires_at: null,
        created_at: now,
        updated_at: now,
        ...values,
      })
      .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ ...values, updated_at: now }))
      .execute();
  }

  async #touch(tx: Tx, orgId: string, userId: string, now: Date) {
    await this.#upsertScimRow(tx, orgId, userId, {}, now);
  }

  /**
   * Whether another SCIM User of the org holds this externalId. A holder who is no SCIM User any
   * more (they left or were removed in the console) gives it up here: lookups no longer find them,
   * so their identity provider must be able to use it again (giving it up commits even if the
   * request is refused later: it belongs to nobody the org's SCIM can see either way).
   */
  async #externalIdTaken(tx: Tx, orgId: string, externalId: string, exceptUserId: string | null) {
    const holders = await tx
      .selectFrom('scim_users as su')
      .leftJoin('memberships as m', (join) =>
        join.onRef('m.org_id', '=', 'su.org_id').onRef('m.user_id', '=', 'su.user_id'),
      )
      .select(['su.user_id', 'm.user_id as member', 'su.suspended_at', 'su.invitation_id'])
      .where('su.org_id', '=', orgId)
      .where('su.external_id', '=', externalId)
      .execute();
    const live = holders.filter(
      (h) => h.member !== null || h.suspended_at !== null || h.invitation_id !== null,
    );
    if (live.some((h) => h.user_id !== exceptUserId)) return true;
    const stale = holders.filter((h) => !live.includes(h)).map((h) => h.user_id);
    if (stale.length > 0) {
      await tx
        .updateTable('scim_users')
        .set({ external_id: null })
        .where('org_id', '=', orgId)
        .where('user_id', 'in', stale)
        .execute();
    }
    return false;
  }

  async #mustGet(tx: Tx, orgId: string, userId: string): Promise<ScimPerson> {
    const person = await this.get(orgId, userId, tx);
    if (!person) throw new Error('the SCIM user just written is not readable');
    return person;
  }

  #audit(
    tx: Tx,
    actor: ScimActor,
    userId: string,
    action: 'scim.user_provisioned' | 'scim.user_deprovisioned' | 'scim.group_changed',
    metadata: Record<string, unknown>,
    now: Date,
  ) {
    return appendAudit(tx, {
      orgId: actor.orgId,
      action,
      actor: actorOf(actor),
      target: { type: 'user', id: userId },
      metadata: { scimTokenId: actor.tokenId, ...metadata },
      ip: actor.ip,
      now,
    });
  }
}
