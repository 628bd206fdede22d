import { sql } from 'kysely';
import { z } from 'zod';
import type { AccountAction } from '../audit/actions.js';
import { userChain } from '../audit/chain.js';
import '../audit/tables.js';
import type { Db } from '../db/connect.js';
import './tables.js';

/**
 * Which rows of a user's audit chain are security events, and the name each has in the log.
 * The chain is the record: each event commits with the change it describes, in order (seq), on
 * every instance — so the list, the acknowledgements and the live stream all read it.
 */
export const SECURITY_EVENT_TYPES = {
  'login.new_device': 'new_device',
  'login.country_changed': 'country_changed',
  'login.impossible_travel': 'impossible_travel',
  'login.denied': 'login_denied',
  'mfa.enrolled': 'mfa_enabled',
  'mfa.disabled': 'mfa_disabled',
  'password.changed': 'password_changed',
  'password.reset': 'password_reset',
  'auth_session.revoked': 'session_revoked',
} as const satisfies Partial<Record<AccountAction, string>>;

type SecurityAction = keyof typeof SECURITY_EVENT_TYPES;
const securityActions = Object.keys(SECURITY_EVENT_TYPES) as SecurityAction[];

export const securityEventView = z.object({
  id: z.string(),
  type: z.enum(Object.values(SECURITY_EVENT_TYPES) as [string, ...string[]]),
  createdAt: z.string(),
  ip: z.string().nullable(),
  country: z.string().nullable(),
  city: z.string().nullable(),
  userAgent: z.string().nullable(),
  /** The session the event is about (the sign-in's new session, the revoked one), when there is one. */
  sessionId: z.string().nullable(),
  acknowledged: z.boolean(),
});
export type SecurityEvent = z.infer<typeof securityEventView>;

/** The context login rows carry in their metadata (shared/signals/place.ts); zod, since it is read back from JSON. */
const context = z.object({
  country: z.string().nullable().optional().catch(null),
  city: z.string().nullable().optional().catch(null),
  userAgent: z.string().nullable().optional().catch(null),
  sessionId: z.string().nullable().optional().catch(null),
});

interface EventRow {
  id: string;
  seq: number | string;
  action: string;
  created_at: Date;
  ip: string | null;
  target_type: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
  acknowledged_at: Date | null;
}

function toEvent(row: EventRow): SecurityEvent {
  const meta = context.parse(row.metadata ?? {});
  return {
    id: row.id,
    type: SECURITY_EVENT_TYPES[row.action as SecurityAction],
    createdAt: row.created_at.toISOString(),
    ip: row.ip,
    country: meta.country ?? null,
    city: meta.city ?? null,
    userAgent: meta.userAgent ?? null,
    sessionId: meta.sessionId ?? (row.target_type === 'session' ? row.target_id : null),
    acknowledged: row.acknowledged_at !== null,
  };
}

export class SecurityEventLog {
  constructor(private readonly db: Db) {}

  #query(userId: string) {
    return this.db
      .selectFrom('audit_logs as a')
      .leftJoin('security_event_acks as k', (join) =>
        join.onRef('k.audit_id', '=', 'a.id').on('k.user_id', '=', userId),
      )
      .select([
        'a.id',
        'a.seq',
        'a.action',
        'a.created_at',
        'a.ip',
        'a.target_type',
        'a.target_id',
        'a.metadata',
        'k.acknowledged_at',
      ])
      .where('a.chain', '=', userChain(userId))
      .where('a.action', 'in', securityActions);
  }

  /** The newest events first. */
  async list(userId: string, limit: number): Promise<SecurityEvent[]> {
    const rows = await this.#query(userId).orderBy('a.seq', 'desc').limit(limit).execute();
    return rows.map((row) => toEvent(row as EventRow));
  }

  /** Where the user's chain stands now: a stream starts after it. */
  async cursor(userId: string): Promise<number> {
    const head = await this.db
      .selectFrom('audit_chain_heads')
      .select('seq')
      .where('chain', '=', userChain(userId))
      .executeTakeFirst();
    return head ? Number(head.seq) : 0;
  }

  /** Events appended after `afterSeq`, oldest first, and the cursor to continue from. */
  async since(userId: string, afterSeq: number): Promise<{ events: SecurityEvent[]; cursor: number }> {
    const rows = (await this.#query(userId)
      .where('a.seq', '>', sql<number>`${afterSeq}`)
      .orderBy('a.seq', 'asc')
      .limit(100)
      .execute()) as EventRow[];
    const last = rows.at(-1);
    return { events: rows.map(toEvent), cursor: last ? Number(last.seq) : afterSeq };
  }

  /** Idempotent; false when the id is not one of the user's security events. */
  async acknowledge(userId: string, eventId: string, now: Date): Promise<boolean> {
    const found = await this.#query(userId).where('a.id', '=', eventId).executeTakeFirst();
    if (!found) return false;
    await this.db
      .insertInto('security_event_acks')
      .values({ user_id: userId, audit_id: eventId, acknowledged_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'audit_id']).doNothing())
      .execute();
    return true;
  }
}
