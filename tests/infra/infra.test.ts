import { beforeAll, describe, expect, it } from 'vitest';
import { type CodeInventory, codeInventory } from './code-inventory.js';
import { checkConsistency, checkSecurityBaseline, publisherGrants } from './consistency.js';
import { loadTerraform, nested, type TerraformModel } from './terraform.js';

let tf: TerraformModel;
let code: CodeInventory;

beforeAll(async () => {
  tf = await loadTerraform();
  code = codeInventory();
});

/** A copy of the inventory with one change, as if the code had been edited but not infra/. */
function edited(change: (inventory: CodeInventory) => void): CodeInventory {
  const copy: CodeInventory = structuredClone(code);
  change(copy);
  return copy;
}

describe('infra/*.tf matches what the code declares', () => {
  it('every unit, topic, subscription, schedule, bucket and secret in code exists in Terraform, and nothing stale', () => {
    expect(checkConsistency(code, tf)).toEqual([]);
  });

  it('the inventory sees the units the code registers, rewrites to and subscribes', () => {
    expect(code.units.get('meta')).toEqual({ http: true, consumes: [] });
    expect(code.units.get('notify')).toEqual({ http: false, consumes: ['mail-outbox', 'security-events'] });
    expect(code.units.get('backup-verify')).toEqual({ http: false, consumes: ['backup-verify'] });
    expect(code.bucketEnvs.sort()).toEqual(['AUDIT_CHECKPOINT_BUCKET', 'RECORDINGS_BUCKET']);
  });

  it('a topic added in code without Terraform fails the check', () => {
    const problems = checkConsistency(
      edited((c) => c.topics.push('machine-deleted')),
      tf,
    );
    expect(problems).toEqual(['topic "machine-deleted" is declared in code but missing in Terraform']);
  });

  it('a new subscription in code without Terraform fails, naming the unit and the pair', () => {
    const problems = checkConsistency(
      edited((c) => {
        c.subscriptions.push({ topic: 'allowlist-changed', unit: 'sessions' });
        c.units.get('sessions')?.consumes.push('allowlist-changed');
      }),
      tf,
    );
    expect(problems).toEqual([
      'subscription of unit "sessions" to topic "allowlist-changed" is declared in code but missing in Terraform',
      'subscription "allowlist-changed--sessions" is declared in code but missing in Terraform',
    ]);
  });

  it('a unit, schedule or secret that Terraform keeps after the code dropped it is reported stale', () => {
    const problems = checkConsistency(
      edited((c) => {
        c.units.delete('meta');
        c.schedules = c.schedules.filter((s) => s.topic !== 'audit-checkpoint');
        c.secrets = c.secrets.filter((s) => s !== 'blob-url-key');
      }),
      tf,
    );
    expect(problems).toEqual([
      'unit "meta" is in Terraform but not declared in code (stale)',
      'schedule "audit-checkpoint @ 0 * * * *" is in Terraform but not declared in code (stale)',
      'secret "blob-url-key" is in Terraform but not declared in code (stale)',
      'unit "recordings" reads unknown secret "blob-url-key"',
    ]);
  });

  it('a new HTTP unit in the edge route table without a function fails', () => {
    const problems = checkConsistency(
      edited((c) => c.units.set('billing', { http: true, consumes: [] })),
      tf,
    );
    expect(problems).toEqual([
      'unit "billing" is declared in code but missing in Terraform',
      'unit "billing" does not declare the topics it publishes to',
    ]);
  });
});

describe('Pub/Sub publishing is granted per topic', () => {
  /** Terraform with one change, as if infra/ had been edited but not the code. */
  function brokenTf(change: (model: TerraformModel) => void): TerraformModel {
    const copy: TerraformModel = structuredClone(tf);
    change(copy);
    return copy;
  }
  const grants = (model: TerraformModel) => model.resources.google_pubsub_topic_iam_member ?? {};

  it('each unit can publish exactly to the topics its code publishes to', () => {
    expect(publisherGrants(tf)).toEqual(code.publishes);
    expect([...code.units.keys()].sort()).toEqual(Object.keys(code.publishes).sort());
    // Spot checks of what the code does: mail from accounts, archiving from recordings, alerts from backups.
    expect(code.publishes.accounts).toContain('mail-outbox');
    expect(code.publishes.recordings).toContain('recording-stopped');
    expect(code.publishes['backup-verify']).toEqual(['security-events']);
    expect(code.publishes.notify).toEqual([]);
  });

  it('audit-events publishers are a declared list of external service accounts, never a unit', () => {
    for (const [unit, topics] of Object.entries(publisherGrants(tf))) {
      expect(topics, unit).not.toContain('audit-events');
    }
    expect(tf.variables.audit_event_publishers?.type).toBe(`\${list(string)}`);
    const external = grants(tf).audit_events_publisher;
    expect(external?.for_each).toBe(`\${toset(var.audit_event_publishers)}`);
    expect(external?.topic).toBe(`\${google_pubsub_topic.topic["audit-events"].name}`);
  });

  it('code that starts publishing to a topic Terraform does not grant fails the check', () => {
    const problems = checkConsistency(
      edited((c) => c.publishes.keys?.push('mail-outbox')),
      tf,
    );
    expect(problems).toEqual([
      'publishing by unit "keys" to topic "mail-outbox" is declared in code but missing in Terraform',
    ]);
  });

  it('a grant the code does not need is reported stale, and a unit on audit-events is refused', () => {
    const problems = checkConsistency(
      code,
      brokenTf((model) => {
        (model.locals.unit_publishes as Record<string, string[]>).orgs?.push('audit-events');
      }),
    );
    expect(problems).toEqual([
      'publishing by unit "orgs" to topic "audit-events" is in Terraform but not declared in code (stale)',
      'unit "orgs" may publish to audit-events, which is for other services only',
    ]);
  });

  it('every unit on every topic, or units as audit-events publishers, fail the check', () => {
    const problems = checkConsistency(
      code,
      brokenTf((model) => {
        const unitPublisher = grants(model).unit_publisher as Record<string, unknown>;
        unitPublisher.for_each = `\${{ for pair in setproduct(keys(local.units), local.topics) : "\${pair[0]}/\${pair[1]}" => { unit = pair[0], topic = pair[1] } }}`;
        const external = grants(model).audit_events_publisher as Record<string, unknown>;
        external.for_each = `\${local.units}`;
        external.member = `serviceAccount:\${google_service_account.unit[each.key].email}`;
      }),
    );
    expect(problems).toContain(
      'unit publishers must be generated from local.unit_publisher_pairs, not every unit × topic',
    );
    expect(problems).toContain(
      'audit-events publishers must be var.audit_event_publishers, on that topic only',
    );
  });

  it('a project-wide publisher role or an extra topic grant fails the check', () => {
    const problems = checkConsistency(
      code,
      brokenTf((model) => {
        grants(model).sneaky = { topic: 'x', role: 'roles/pubsub.publisher', member: 'serviceAccount:y' };
        model.resources.google_project_iam_member = {
          ...model.resources.google_project_iam_member,
          wide: { role: 'roles/pubsub.publisher', member: 'serviceAccount:z' },
        };
      }),
    );
    expect(problems).toEqual([
      'google_pubsub_topic_iam_member.sneaky grants publishing outside the per-topic lists',
      'project-wide Pub/Sub role roles/pubsub.publisher',
    ]);
  });
});

describe('infra/*.tf deploy settings the code relies on', () => {
  it('the audit consumer serves concurrent deliveries (its batch keys need company) with a whole CPU', () => {
    const units = tf.locals.units as Record<string, { concurrency?: number; cpu?: string }>;
    expect(units['audit-consumer']?.concurrency).toBeGreaterThan(1);
    expect(units['audit-consumer']?.cpu).toBe('1');
    const service = nested(tf.resources.google_cloudfunctions2_function?.unit, 'service_config');
    expect(String(service?.max_instance_request_concurrency)).toContain('each.value.concurrency');
    expect(String(service?.available_cpu)).toContain('each.value.cpu');
  });
});

describe('infra/*.tf security baseline', () => {
  it('Cloud SQL is PostgreSQL 16, private, IAM-authenticated, backed up nightly with PITR, and protected from deletion', () => {
    expect(checkSecurityBaseline(tf)).toEqual([]);
  });

  it('the baseline check fails when backups, PITR or private IP are turned off, or a primitive role appears', () => {
    const broken: TerraformModel = structuredClone(tf);
    const settings = nested(broken.resources.google_sql_database_instance?.main, 'settings');
    const backup = nested(settings, 'backup_configuration');
    if (!settings || !backup) throw new Error('no backup configuration');
    backup.enabled = false;
    backup.point_in_time_recovery_enabled = false;
    (nested(settings, 'ip_configuration') as Record<string, unknown>).ipv4_enabled = true;
    broken.resources.google_project_iam_member = {
      ...broken.resources.google_project_iam_member,
      oops: { role: 'roles/editor', member: 'serviceAccount:x' },
    };
    expect(checkSecurityBaseline(broken)).toEqual([
      'main: automated backups must be on',
      'main: point-in-time recovery must be on',
      'main: private IP only',
      'primitive role roles/editor is granted',
    ]);
  });

  it('a public bucket, a bucket without public access prevention, or a subscription without a DLQ fails', () => {
    const broken: TerraformModel = structuredClone(tf);
    const recordings = broken.resources.google_storage_bucket?.recordings;
    if (!recordings) throw new Error('no recordings bucket');
    recordings.public_access_prevention = 'inherited';
    broken.resources.google_storage_bucket_iam_member = {
      ...broken.resources.google_storage_bucket_iam_member,
      leak: { bucket: 'x', role: 'roles/storage.objectViewer', member: 'allUsers' },
    };
    const push = broken.resources.google_pubsub_subscription?.push;
    if (!push) throw new Error('no push subscription');
    delete push.dead_letter_policy;
    expect(checkConsistency(code, broken)).toEqual([
      'every subscription needs its own dead-letter topic',
      'dead-letter policy needs max_delivery_attempts',
      'bucket recordings must enforce public access prevention',
      'google_storage_bucket_iam_member.leak makes a bucket public',
    ]);
  });

  it('no secret value is written by Terraform and the checkpoint bucket keeps objects under a retention policy', () => {
    expect(tf.resources.google_secret_manager_secret_version).toBeUndefined();
    const checkpoints = tf.resources.google_storage_bucket?.audit_checkpoints;
    expect(nested(checkpoints, 'retention_policy')?.retention_period).toBeDefined();
    // Versioning and a retention policy exclude each other in Cloud Storage.
    expect(nested(checkpoints, 'versioning')).toBeUndefined();
  });
});
