import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../audit/append.js';
import type { CheckpointStore } from '../audit/checkpoints.js';
import { AuditStore } from '../audit/store.js';
import { verifyChain } from '../audit/verify.js';
import type { Db, DbHandle } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import { MINUTE_MS } from '../time/clock.js';
import type { CloudSqlAdmin, CloudSqlInstanceRef, SqlOperation } from './cloud-sql-admin.js';
import './tables.js';
import '../audit/tables.js';

/** Tables whose row counts the drill records (and requires to be readable on the copy). */
export const DRILL_COUNTED_TABLES = [
  'users',
  'orgs',
  'memberships',
  'sessions',
  'audit_logs',
  'recordings',
] as const;

/** How far back the copy is taken: recent enough to matter, old enough for the logs to have it. */
export const DRILL_POINT_IN_TIME_AGE_MS = 10 * MINUTE_MS;

export interface RestoreDrillDeps {
  /** The database the drill records into (the live one). */
  db: Db;
  admin: Pick<CloudSqlAdmin, 'clone' | 'operation' | 'deleteInstance'>;
  source: CloudSqlInstanceRef;
  /** Opens the scratch instance (through the Cloud SQL connector in production). */
  connect: (scratchInstance: string) => Promise<DbHandle>;
  /** The signed checkpoints in the bucket: what the copy's chains must reach. */
  checkpoints: Pick<CheckpointStore, 'latest'>;
  /** The newest migration version the code knows: the copy must be at it. */
  expectedMigrationVersion: string;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
  logger: Logger;
  /** How long to wait for the clone (Cloud SQL clones take minutes). */
  timeoutMs?: number;
  /** How far back the copy is asked for (default DRILL_POINT_IN_TIME_AGE_MS; 0 for a local copy of the present). */
  pointInTimeAgeMs?: number;
}

export interface DrillResult {
  id: string;
  status: 'passed' | 'failed';
  failure: string | null;
  chainsVerified: number;
}

interface DrillFindings {
  restoreSeconds: number | null;
  migrationVersion: string | null;
  rowCounts: Record<string, number>;
  chainsVerified: number;
}

/**
 * The monthly restore drill: clones the instance as it was a few minutes ago into a scratch
 * instance, waits for the clone, opens it and checks what a real restore would need — the
 * migration version, readable row counts, and every org chain verifying up to its latest signed
 * checkpoint in the bucket (a copy that lost its tail falls short of the checkpoint). The scratch
 * instance is deleted whatever happened; the run is recorded with its audit row either way.
 */
export class RestoreDrill {
  constructor(private readonly deps: RestoreDrillDeps) {}

  async run(): Promise<DrillResult> {
    const { deps } = this;
    const startedAt = deps.now();
    const pointInTime = new Date(startedAt.getTime() - (deps.pointInTimeAgeMs ?? DRILL_POINT_IN_TIME_AGE_MS));
    const scratch = `${deps.source.instance}-drill-${startedAt.toISOString().slice(0, 16).replace(/[-:T]/g, '')}`;
    const findings: DrillFindings = {
      restoreSeconds: null,
      migrationVersion: null,
      rowCounts: {},
      chainsVerified: 0,
    };
    let failure: string | null = null;
    let cloned = false;
    try {
      const op = await deps.admin.clone(deps.source, scratch, pointInTime);
      cloned = true;
      await this.#wait(op, 'clone');
      findings.restoreSeconds = (deps.now().getTime() - startedAt.getTime()) / 1000;
      failure = await this.#check(scratch, findings);
    } catch (error) {
      failure = `drill error: ${(error as Error).message}`;
    } finally {
      if (cloned) {
        try {
          await this.#wait(await deps.admin.deleteInstance({ ...deps.source, instance: scratch }), 'delete');
        } catch (error) {
          deps.logger.error('restore drill: deleting the scratch instance failed', { scratch, error });
          failure ??= `scratch instance ${scratch} could not be deleted: ${(error as Error).message}`;
        }
      }
    }
    return this.#record({ scratch, pointInTime, startedAt, failure, findings });
  }

  /** Null when the copy holds up; otherwise the first thing that did not. */
  async #check(scratch: string, findings: DrillFindings): Promise<string | null> {
    const handle = await this.deps.connect(scratch);
    try {
      const db = handle.db;
      const version = await sql<{
        version: string;
      }>`select max(version) as version from schema_migrations`.execute(db);
      findings.migrationVersion = version.rows[0]?.version ?? null;
      if (findings.migrationVersion !== this.deps.expectedMigrationVersion) {
        return `migration version ${findings.migrationVersion ?? 'none'}, expected ${this.deps.expectedMigrationVersion}`;
      }
      for (const table of DRILL_COUNTED_TABLES) {
        const row = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db);
        findings.rowCounts[table] = row.rows[0]?.n ?? 0;
      }
      const store = new AuditStore(db);
      const chains = await db
        .selectFrom('audit_chain_heads')
        .select('chain')
        .where('chain', 'like', 'org:%')
        .orderBy('chain')
        .execute();
      for (const { chain } of chains) {
        const head = await store.head(chain);
        const checkpoint = await this.deps.checkpoints.latest(chain);
        const throughSeq = head ? head.seq : await store.lastSeq(chain);
        const report = await verifyChain({
          pages: store.pages(chain, 0, throughSeq, 5000),
          head,
          checkpoint,
        });
        if (!report.valid)
          return `chain ${chain} does not verify: ${report.reason} at seq ${report.brokenAtSeq}`;
        findings.chainsVerified++;
      }
      return null;
    } finally {
      await handle.close();
    }
  }

  async #wait(op: SqlOperation, what: string): Promise<void> {
    const { deps } = this;
    const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const deadline = Date.now() + (deps.timeoutMs ?? 45 * MINUTE_MS);
    let current = op;
    while (current.status !== 'DONE') {
      if (Date.now() > deadline) throw new Error(`${what} did not finish in time`);
      await sleep(10_000);
      current = await deps.admin.operation(deps.source.project, current.name);
    }
    const error = current.error?.errors[0];
    if (error) throw new Error(`${what} failed: ${error.code ?? ''} ${error.message ?? ''}`.trim());
  }

  async #record(run: {
    scratch: string;
    pointInTime: Date;
    startedAt: Date;
    failure: string | null;
    findings: DrillFindings;
  }): Promise<DrillResult> {
    const { deps } = this;
    const id = randomUUID();
    const finishedAt = deps.now();
    const status = run.failure === null ? 'passed' : 'failed';
    const pointInTimeAgeSeconds = (run.startedAt.getTime() - run.pointInTime.getTime()) / 1000;
    await deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('restore_drills')
        .values({
          id,
          instance: deps.source.instance,
          scratch_instance: run.scratch,
          point_in_time: run.pointInTime,
          started_at: run.startedAt,
          finished_at: finishedAt,
          status,
          restore_seconds: run.findings.restoreSeconds,
          point_in_time_age_seconds: pointInTimeAgeSeconds,
          migration_version: run.findings.migrationVersion,
          row_counts: JSON.stringify(run.findings.rowCounts),
          chains_verified: run.findings.chainsVerified,
          failure: run.failure,
        })
        .execute();
      await appendAudit(tx, {
        system: 'backups',
        action: status === 'passed' ? 'backup.restore_drill_passed' : 'backup.restore_drill_failed',
        actor: { type: 'system', id: 'restore-drill' },
        target: { type: 'restore_drill', id },
        metadata: {
          instance: deps.source.instance,
          restoreSeconds: run.findings.restoreSeconds,
          pointInTimeAgeSeconds,
          chainsVerified: run.findings.chainsVerified,
          failure: run.failure,
        },
        now: finishedAt,
      });
    });
    // The alert in infra/monitoring.tf matches this message.
    if (status === 'failed') deps.logger.error('restore drill failed', { drillId: id, failure: run.failure });
    else deps.logger.info('restore drill passed', { drillId: id, ...run.findings });
    return { id, status, failure: run.failure, chainsVerified: run.findings.chainsVerified };
  }
}
