import { sha256Hex } from '../crypto/tokens.js';
import { canonicalJson } from './canonical.js';

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

/**
 * hash = SHA-256(prevHash ‖ RFC 8785 canonical JSON of the row), hex. The fields are picked one by
 * one so a row object carrying more (its own hash, its links) hashes the same.
 */
export function rowHash(prevHash: string, row: ChainedRow): string {
  const hashed: ChainedRow = {
    id: row.id,
    chain: row.chain,
    seq: row.seq,
    orgId: row.orgId,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    metadata: row.metadata,
    ip: row.ip,
    createdAt: row.createdAt,
  };
  return sha256Hex(prevHash + canonicalJson(hashed));
}

export const orgChain = (orgId: string) => `org:${orgId}`;
export const userChain = (userId: string) => `user:${userId}`;
