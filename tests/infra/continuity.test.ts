import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Block, loadTerraform, nested, ref, type TerraformModel } from './terraform.js';

let tf: TerraformModel;
beforeAll(async () => {
  tf = await loadTerraform();
});

const resource = (type: string, name: string) => tf.resources[type]?.[name] as Block;

describe('the weekly dependency audit in Terraform', () => {
  it('keeps reports in a private bucket that deletes them after 30 days', () => {
    const bucket = resource('google_storage_bucket', 'dependency_audit_reports');
    expect(bucket).toMatchObject({ uniform_bucket_level_access: true, public_access_prevention: 'enforced' });
    const rule = nested(bucket, 'lifecycle_rule');
    expect(nested(rule, 'condition')).toMatchObject({ age: 30 });
    expect(nested(rule, 'action')).toMatchObject({ type: 'Delete' });
  });

  it('runs npm run audit:deps, uploads the report whatever the verdict, then fails on the verdict', () => {
    const build = nested(resource('google_cloudbuild_trigger', 'dependency_audit'), 'build');
    const steps = ((build?.step ?? []) as Block[]).map((s) => ({ id: s.id, script: String(s.script) }));
    expect(steps.map((s) => s.id)).toEqual(['audit', 'keep-report', 'verdict']);
    expect(steps[0]?.script).toContain('npm run audit:deps -- --out /workspace/report.json; echo $? >');
    expect(steps[1]?.script).toContain(
      `gcloud storage cp /workspace/report.json gs://${ref('google_storage_bucket.dependency_audit_reports.name')}/`,
    );
    expect(steps[2]?.script).toBe('exit $(cat /workspace/exit-code)');
  });

  it('is started weekly by Cloud Scheduler through the Cloud Build API, as the audit service account', () => {
    expect(tf.variables.dependency_audit_schedule?.default).toBe('0 5 * * 1');
    const job = resource('google_cloud_scheduler_job', 'dependency_audit');
    expect(job.schedule).toBe(ref('var.dependency_audit_schedule'));
    const target = nested(job, 'http_target');
    expect(target?.uri).toContain(
      `/triggers/${ref('google_cloudbuild_trigger.dependency_audit.trigger_id')}:run`,
    );
    expect(nested(target, 'oauth_token')?.service_account_email).toBe(
      ref('google_service_account.dependency_audit.email'),
    );
  });

  it('the script the trigger runs exists in package.json with the audit flags', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.scripts['audit:deps']).toBe('tsx scripts/audit-deps.ts');
    expect(readFileSync(new URL('../../scripts/audit-deps.ts', import.meta.url), 'utf8')).toContain(
      "['audit', '--omit=dev', '--audit-level=high', '--json']",
    );
  });
});

describe('the restore drill in Terraform', () => {
  it('is a unit consuming its monthly tick, allowed to clone and delete instances and read checkpoints', () => {
    const units = tf.locals.units as Record<string, Block>;
    expect(units['restore-drill']).toMatchObject({
      http: false,
      consumes: ['restore-drill'],
      roles: ['roles/cloudsql.admin'],
      bucket_roles: { audit_checkpoints: 'roles/storage.objectViewer' },
    });
  });

  it('runs monthly by default on a schedule operators can change', () => {
    expect((tf.locals.schedules as Record<string, string>)['restore-drill']).toBe(
      ref('var.restore_drill_schedule'),
    );
    const variable = tf.variables.restore_drill_schedule;
    expect(variable?.default).toBe('0 4 1 * *');
    expect(variable?.type).toBe(ref('string'));
    // The scheduler job for it is one of those generated from local.schedules.
    const job = resource('google_cloud_scheduler_job', 'schedule');
    expect(job.for_each).toBe(ref('local.schedules'));
    expect(job.schedule).toBe(ref('each.value'));
  });

  it('pages the operators when a drill fails', () => {
    const metric = resource('google_logging_metric', 'restore_drill_failed');
    expect(metric.filter).toContain('jsonPayload.message="restore drill failed"');
    // …the very message the drill logs on failure.
    expect(readFileSync(new URL('../../shared/backups/restore-drill.ts', import.meta.url), 'utf8')).toContain(
      "deps.logger.error('restore drill failed'",
    );
    const policy = resource('google_monitoring_alert_policy', 'restore_drill_failed');
    expect(policy.notification_channels).toBe(ref('var.alert_notification_channels'));
  });
});
