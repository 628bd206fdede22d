-- The chain head remembers the hash it replaced, so one statement can advance the head and insert
-- the row that links to it (RETURNING shows only the new values). This keeps the head row locked
-- for a single round trip plus the commit instead of two, which is what bounds appends per chain.
-- Existing heads get the genesis value; it is only read in the statement that overwrites it.
alter table audit_chain_heads
  add column prev_hash text not null default '0000000000000000000000000000000000000000000000000000000000000000';
