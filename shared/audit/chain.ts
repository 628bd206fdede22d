import { sha256Hex } from '../crypto/tokens.js';

/** prev_hash of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of a row that its hash covers, exactly as stored. */
export interface ChainedRow {
  id: string;
  chain: string;
  seq: number;
  orgId: string | null;
  actorType: 'user' | 'api_key' | 'system';
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  metadata: Record<string, unknown>;
  ip: string | null;
  createdAt: string;
}

/** hash = SHA-256(prevHash ‖ RFC 8785 canonical JSON of the row), hex. */
export function rowHash(prevHash: string, row: ChainedRow): string {
  return sha256Hex(prevHash + canonicalRow(row));
}

/** A row with its links: the hash it follows and its own. */
export type LinkedRow = ChainedRow & { prevHash: string; hash: string };

/** Links `rows`, in order, onto a chain whose last hash is `prevHash`. */
export function linkRows(prevHash: string, rows: readonly ChainedRow[]): LinkedRow[] {
  let prev = prevHash;
  return rows.map((row) => {
    const linked = { ...row, prevHash: prev, hash: rowHash(prev, row) };
    prev = linked.hash;
    return linked;
  });
}

/**
 * The RFC 8785 form of a row, written out directly: verify hashes every row of a chain, and the
 * generic canonicalizer (cycle and toJSON checks, sorting a known key set each time) was its
 * bottleneck. The keys below are already in RFC 8785 order; metadata (plain JSON from jsonb) is
 * walked by `value`. canonical.test.ts checks this equals canonicalJson(row) for arbitrary rows.
 */
export function canonicalRow(row: ChainedRow): string {
  const [beforeSeq, afterSeq] = canonicalRowAroundSeq(row);
  return beforeSeq + value(row.seq) + afterSeq;
}

/**
 * The canonical form split where `seq` goes: appendAudit lets the database fill in the seq (and
 * the previous hash) under the chain head's lock, in the same statement that takes it.
 */
export function canonicalRowAroundSeq(row: Omit<ChainedRow, 'seq'>): [string, string] {
  return [
    `{"action":${str(row.action)},"actorId":${nullable(row.actorId)},"actorType":${str(row.actorType)}` +
      `,"chain":${str(row.chain)},"createdAt":${str(row.createdAt)},"id":${str(row.id)},"ip":${nullable(row.ip)}` +
      `,"metadata":${value(row.metadata)},"orgId":${nullable(row.orgId)},"seq":`,
    `,"targetId":${nullable(row.targetId)},"targetType":${nullable(row.targetType)}}`,
  ];
}

/** RFC 8785 strings are ECMAScript JSON strings; lone surrogates are refused, as canonicalize does. */
function str(value: string): string {
  if (!(value as WellFormedCheck).isWellFormed()) throw new Error('Lone surrogate is not allowed');
  return JSON.stringify(value);
}

// ES2024 (Node ≥ 20); the project's TypeScript lib stops at an earlier edition.
type WellFormedCheck = string & { isWellFormed(): boolean };

function nullable(text: string | null): string {
  return text === null ? 'null' : str(text);
}

/** RFC 8785 for plain JSON values: ECMAScript number and string forms, keys in UTF-16 order. */
function value(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`${v} is not allowed`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(v)) return `[${v.map(value).join(',')}]`;
      const record = v as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        if (record[key] !== undefined) parts.push(`${str(key)}:${value(record[key])}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new Error(`a ${typeof v} cannot be canonicalized`);
  }
}

export const orgChain = (orgId: string) => `org:${orgId}`;
export const userChain = (userId: string) => `user:${userId}`;
