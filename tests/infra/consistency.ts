import type { CodeInventory } from './code-inventory.js';
import { allStrings, type Block, nested, type TerraformModel } from './terraform.js';

/**
 * Compares what the code declares with what infra/*.tf provisions and returns every mismatch as a
 * sentence (empty = consistent). Terraform is data-driven from locals (infra/units.tf), so the
 * lists are compared there and the resources are checked to be generated from those lists.
 */
export function checkConsistency(code: CodeInventory, tf: TerraformModel): string[] {
  return [
    ...checkUnits(code, tf),
    ...checkTopics(code, tf),
    ...checkPublishers(code, tf),
    ...checkSchedules(code, tf),
    ...checkSecrets(code, tf),
    ...checkBuckets(code, tf),
    ...checkEnv(code, tf),
  ];
}

function setDiff(kind: string, inCode: Iterable<string>, inTerraform: Iterable<string>): string[] {
  const code = new Set(inCode);
  const terraform = new Set(inTerraform);
  return [
    ...[...code]
      .filter((x) => !terraform.has(x))
      .map((x) => `${kind} "${x}" is declared in code but missing in Terraform`),
    ...[...terraform]
      .filter((x) => !code.has(x))
      .map((x) => `${kind} "${x}" is in Terraform but not declared in code (stale)`),
  ];
}

interface UnitSpec {
  http: boolean;
  consumes: string[];
  secrets: string[];
  roles: string[];
  memory?: string;
  min_instances?: number;
  max_instances?: number;
}

function unitsOf(tf: TerraformModel): Record<string, UnitSpec> {
  return (tf.locals.units as Record<string, UnitSpec> | undefined) ?? {};
}

function resource(tf: TerraformModel, type: string, name: string): Block | undefined {
  return tf.resources[type]?.[name];
}

function generatedFrom(
  tf: TerraformModel,
  type: string,
  name: string,
  forEach: string,
  what: string,
): string[] {
  const block = resource(tf, type, name);
  if (!block) return [`${type}.${name} (${what}) is missing`];
  return String(block.for_each ?? '').includes(forEach)
    ? []
    : [`${type}.${name} must be generated with for_each over ${forEach} (${what})`];
}

function checkUnits(code: CodeInventory, tf: TerraformModel): string[] {
  const units = unitsOf(tf);
  const problems = setDiff('unit', code.units.keys(), Object.keys(units));
  for (const [name, declared] of code.units) {
    const spec = units[name];
    if (!spec) continue;
    if (spec.http !== declared.http) {
      problems.push(
        `unit "${name}" is ${declared.http ? '' : 'not '}an HTTP unit in code but http = ${spec.http}`,
      );
    }
    problems.push(
      ...setDiff(`subscription of unit "${name}" to topic`, declared.consumes, spec.consumes ?? []),
    );
    if (!spec.memory || spec.max_instances === undefined || spec.min_instances === undefined) {
      problems.push(`unit "${name}" needs memory, min_instances and max_instances`);
    }
  }
  problems.push(
    ...generatedFrom(tf, 'google_service_account', 'unit', 'local.units', 'one service account per unit'),
    ...generatedFrom(tf, 'google_cloudfunctions2_function', 'unit', 'local.units', 'one function per unit'),
    ...generatedFrom(tf, 'google_sql_user', 'unit', 'local.units', 'one IAM database user per unit'),
  );
  const fn = resource(tf, 'google_cloudfunctions2_function', 'unit');
  const build = nested(fn, 'build_config');
  const service = nested(fn, 'service_config');
  if (fn) {
    if (build?.runtime !== 'nodejs24') problems.push('functions must run on nodejs24');
    if (build?.entry_point !== `\${each.key}`) problems.push('function entry point must be the unit name');
    if (!String(service?.service_account_email ?? '').includes('google_service_account.unit[each.key]')) {
      problems.push("each function must run as its unit's own service account");
    }
    for (const field of ['available_memory', 'min_instance_count', 'max_instance_count']) {
      if (!String(service?.[field] ?? '').includes('each.value'))
        problems.push(`function ${field} must come from units.tf`);
    }
  }
  const sqlUser = resource(tf, 'google_sql_user', 'unit');
  if (sqlUser && sqlUser.type !== 'CLOUD_IAM_SERVICE_ACCOUNT')
    problems.push('database users must be IAM service account users');
  return problems;
}

function checkTopics(code: CodeInventory, tf: TerraformModel): string[] {
  const problems = setDiff('topic', code.topics, (tf.locals.topics as string[] | undefined) ?? []);
  problems.push(...generatedFrom(tf, 'google_pubsub_topic', 'topic', 'local.topics', 'every topic'));
  // Subscriptions in Terraform are derived from units' `consumes` (checked per unit above); here the
  // subscription, dead-letter and retry resources are checked to cover every one of them.
  const subscriptionsLocal = String(tf.locals.subscriptions ?? '');
  if (!subscriptionsLocal.includes('local.units') || !subscriptionsLocal.includes(`\${topic}--\${unit}`)) {
    problems.push('local.subscriptions must derive "<topic>--<unit>" pairs from local.units');
  }
  const codePairs = code.subscriptions.map((s) => `${s.topic}--${s.unit}`);
  const tfPairs = Object.entries(unitsOf(tf)).flatMap(([unit, spec]) =>
    (spec.consumes ?? []).map((t) => `${t}--${unit}`),
  );
  problems.push(...setDiff('subscription', codePairs, tfPairs));
  for (const topic of code.subscriptions.map((s) => s.topic)) {
    if (!code.topics.includes(topic)) problems.push(`subscription to unknown topic "${topic}"`);
  }

  problems.push(
    ...generatedFrom(
      tf,
      'google_pubsub_subscription',
      'push',
      'local.subscriptions',
      'a push subscription per pair',
    ),
    ...generatedFrom(
      tf,
      'google_pubsub_topic',
      'dead_letter',
      'local.subscriptions',
      'a dead-letter topic per subscription',
    ),
    ...generatedFrom(
      tf,
      'google_pubsub_subscription',
      'dead_letter',
      'local.subscriptions',
      'dead letters are kept',
    ),
  );
  const push = resource(tf, 'google_pubsub_subscription', 'push');
  if (push) {
    const pushConfig = nested(push, 'push_config');
    if (!nested(pushConfig, 'oidc_token'))
      problems.push('push subscriptions must authenticate with an OIDC token');
    if (
      !String(pushConfig?.push_endpoint ?? '').includes(
        'google_cloudfunctions2_function.unit[each.value.unit]',
      )
    ) {
      problems.push("push subscriptions must deliver to the consuming unit's function");
    }
    if (!nested(push, 'retry_policy')) problems.push('push subscriptions need a retry policy');
    const deadLetter = nested(push, 'dead_letter_policy');
    if (!String(deadLetter?.dead_letter_topic ?? '').includes('google_pubsub_topic.dead_letter[each.key]')) {
      problems.push('every subscription needs its own dead-letter topic');
    }
    if (typeof deadLetter?.max_delivery_attempts !== 'number')
      problems.push('dead-letter policy needs max_delivery_attempts');
  }
  return problems;
}

const PUBLISHER = 'roles/pubsub.publisher';
const EXTERNAL_TOPIC = 'audit-events';

/**
 * The topics each unit may publish to in Terraform, as the grants resolve: a (unit, topic) pair per
 * entry of local.unit_publishes, when the unit_publisher grant is generated from it.
 */
export function publisherGrants(tf: TerraformModel): Record<string, string[]> {
  const grant = resource(tf, 'google_pubsub_topic_iam_member', 'unit_publisher');
  const pairs = String(tf.locals.unit_publisher_pairs ?? '');
  if (!String(grant?.for_each ?? '').includes('local.unit_publisher_pairs')) return {};
  if (!pairs.includes('local.unit_publishes')) return {};
  const declared = (tf.locals.unit_publishes as Record<string, string[]> | undefined) ?? {};
  return Object.fromEntries(Object.entries(declared).map(([unit, topics]) => [unit, [...topics]]));
}

/**
 * Pub/Sub publishing is granted per topic: each unit's account on exactly the topics its code
 * publishes to, audit-events only to the declared external accounts, and nothing project-wide.
 */
function checkPublishers(code: CodeInventory, tf: TerraformModel): string[] {
  const problems: string[] = [];
  const grant = resource(tf, 'google_pubsub_topic_iam_member', 'unit_publisher');
  if (!grant)
    problems.push('google_pubsub_topic_iam_member.unit_publisher (per-topic unit publishers) is missing');
  else {
    if (!String(grant.for_each ?? '').includes('local.unit_publisher_pairs')) {
      problems.push(
        'unit publishers must be generated from local.unit_publisher_pairs, not every unit × topic',
      );
    }
    if (!String(tf.locals.unit_publisher_pairs ?? '').includes('local.unit_publishes')) {
      problems.push('local.unit_publisher_pairs must derive from local.unit_publishes');
    }
    if (grant.role !== PUBLISHER) problems.push(`unit publishers must have ${PUBLISHER}`);
    if (!String(grant.member ?? '').includes('google_service_account.unit[each.value.unit]')) {
      problems.push("unit publishers must be the unit's own service account");
    }
    if (!String(grant.topic ?? '').includes('google_pubsub_topic.topic[each.value.topic]')) {
      problems.push('unit publishers must be granted on the one topic of their pair');
    }
  }
  const granted = publisherGrants(tf);
  problems.push(...setDiff('publishing unit', Object.keys(code.publishes), Object.keys(granted)));
  for (const unit of code.units.keys()) {
    if (!(unit in code.publishes))
      problems.push(`unit "${unit}" does not declare the topics it publishes to`);
  }
  for (const [unit, topics] of Object.entries(code.publishes)) {
    if (!(unit in granted)) continue;
    problems.push(...setDiff(`publishing by unit "${unit}" to topic`, topics, granted[unit] ?? []));
    for (const topic of topics) {
      if (!code.topics.includes(topic)) problems.push(`unit "${unit}" publishes to unknown topic "${topic}"`);
    }
  }
  for (const [unit, topics] of Object.entries(granted)) {
    if (topics.includes(EXTERNAL_TOPIC)) {
      problems.push(`unit "${unit}" may publish to ${EXTERNAL_TOPIC}, which is for other services only`);
    }
  }

  const variable = tf.variables.audit_event_publishers;
  if (!variable || !String(variable.type ?? '').includes('list(string)')) {
    problems.push('var.audit_event_publishers (a list of service account emails) is missing');
  }
  const external = resource(tf, 'google_pubsub_topic_iam_member', 'audit_events_publisher');
  if (
    !external ||
    !String(external.for_each ?? '').includes('var.audit_event_publishers') ||
    !String(external.topic ?? '').includes(`google_pubsub_topic.topic["${EXTERNAL_TOPIC}"]`) ||
    external.member !== `serviceAccount:\${each.key}` ||
    external.role !== PUBLISHER
  ) {
    problems.push(`${EXTERNAL_TOPIC} publishers must be var.audit_event_publishers, on that topic only`);
  }

  // Nothing else may publish: no other topic grant, no project-wide Pub/Sub role.
  const allowed = new Set(['unit_publisher', 'audit_events_publisher', 'dead_letter_publisher']);
  for (const type of ['google_pubsub_topic_iam_member', 'google_pubsub_topic_iam_binding']) {
    for (const [name, block] of Object.entries(tf.resources[type] ?? {})) {
      if (!allowed.has(name) && /roles\/pubsub\.(publisher|editor|admin)/.test(String(block.role))) {
        problems.push(`${type}.${name} grants publishing outside the per-topic lists`);
      }
    }
  }
  const deadLetter = resource(tf, 'google_pubsub_topic_iam_member', 'dead_letter_publisher');
  if (deadLetter && deadLetter.member !== `\${local.pubsub_agent}`) {
    problems.push('only the Pub/Sub service agent publishes to dead-letter topics');
  }
  for (const text of [
    ...allStrings(tf.resources.google_project_iam_member ?? {}),
    ...allStrings(tf.resources.google_project_iam_binding ?? {}),
    ...allStrings(tf.locals.units ?? {}),
  ]) {
    if (/roles\/pubsub\.(publisher|editor|admin)\b/.test(text))
      problems.push(`project-wide Pub/Sub role ${text}`);
  }
  return problems;
}

function checkSchedules(code: CodeInventory, tf: TerraformModel): string[] {
  const tfSchedules = (tf.locals.schedules as Record<string, string> | undefined) ?? {};
  const problems: string[] = [];
  // A schedule operators may change is a variable; the code's cron must be its default.
  const cronOf = (topic: string, value: string) => {
    const variable = /^\$\{var\.([a-z0-9_]+)\}$/.exec(value)?.[1];
    if (!variable) return value;
    const fallback = tf.variables[variable]?.default;
    if (typeof fallback !== 'string') problems.push(`schedule of ${topic}: var.${variable} has no default`);
    return String(fallback);
  };
  problems.push(
    ...setDiff(
      'schedule',
      code.schedules.map((s) => `${s.topic} @ ${s.cron}`),
      Object.entries(tfSchedules).map(([topic, cron]) => `${topic} @ ${cronOf(topic, cron)}`),
    ),
  );
  problems.push(
    ...generatedFrom(tf, 'google_cloud_scheduler_job', 'schedule', 'local.schedules', 'every schedule'),
  );
  const job = resource(tf, 'google_cloud_scheduler_job', 'schedule');
  if (
    job &&
    !String(nested(job, 'pubsub_target')?.topic_name ?? '').includes('google_pubsub_topic.topic[each.key]')
  ) {
    problems.push('scheduler jobs must publish to their topic');
  }
  return problems;
}

function checkSecrets(code: CodeInventory, tf: TerraformModel): string[] {
  const problems = setDiff('secret', code.secrets, (tf.locals.secrets as string[] | undefined) ?? []);
  problems.push(
    ...generatedFrom(tf, 'google_secret_manager_secret', 'secret', 'local.secrets', 'every secret'),
  );
  for (const [unit, spec] of Object.entries(unitsOf(tf))) {
    for (const secret of spec.secrets ?? []) {
      if (!code.secrets.includes(secret)) problems.push(`unit "${unit}" reads unknown secret "${secret}"`);
    }
  }
  // Values are added out of band so they never land in Terraform state.
  for (const [name, version] of Object.entries(tf.resources.google_secret_manager_secret_version ?? {})) {
    if ('secret_data' in version)
      problems.push(`google_secret_manager_secret_version.${name} puts a secret value in state`);
  }
  return problems;
}

function checkBuckets(code: CodeInventory, tf: TerraformModel): string[] {
  const buckets = (tf.locals.buckets as Record<string, { env: string }> | undefined) ?? {};
  const problems = setDiff(
    'bucket for',
    code.bucketEnvs,
    Object.values(buckets).map((b) => b.env),
  );
  for (const key of Object.keys(buckets)) {
    if (!resource(tf, 'google_storage_bucket', key))
      problems.push(`bucket "${key}" has no google_storage_bucket.${key}`);
  }
  for (const [name, bucket] of Object.entries(tf.resources.google_storage_bucket ?? {})) {
    if (bucket.uniform_bucket_level_access !== true) problems.push(`bucket ${name} must use uniform access`);
    if (bucket.public_access_prevention !== 'enforced')
      problems.push(`bucket ${name} must enforce public access prevention`);
  }
  for (const type of [
    'google_storage_bucket_iam_member',
    'google_storage_bucket_iam_binding',
    'google_storage_bucket_acl',
  ]) {
    for (const [name, block] of Object.entries(tf.resources[type] ?? {})) {
      if (allStrings(block).some((s) => /allUsers|allAuthenticatedUsers/.test(s))) {
        problems.push(`${type}.${name} makes a bucket public`);
      }
    }
  }
  const recordings = resource(tf, 'google_storage_bucket', 'recordings');
  if (recordings && !nested(recordings, 'lifecycle_rule'))
    problems.push('recordings bucket needs a lifecycle rule');
  const checkpoints = resource(tf, 'google_storage_bucket', 'audit_checkpoints');
  if (checkpoints) {
    if (!nested(checkpoints, 'retention_policy')?.retention_period)
      problems.push('audit checkpoint bucket needs a retention policy');
    // Cloud Storage refuses Object Versioning on a bucket with a retention policy (apply would fail).
    if (nested(checkpoints, 'versioning')?.enabled === true) {
      problems.push('audit checkpoint bucket cannot have versioning beside its retention policy');
    }
  }
  return problems;
}

function checkEnv(code: CodeInventory, tf: TerraformModel): string[] {
  const common = (tf.locals.common_env as Record<string, unknown> | undefined) ?? {};
  const service = nested(resource(tf, 'google_cloudfunctions2_function', 'unit'), 'service_config');
  const perUnit = [...String(service?.environment_variables ?? '').matchAll(/\b([A-Z][A-Z0-9_]+)\s*=/g)].map(
    (m) => m[1],
  );
  const problems: string[] = [];
  for (const name of [...Object.keys(common), ...perUnit]) {
    if (name && !code.envNames.includes(name))
      problems.push(`functions set env ${name}, which the code does not read`);
  }
  for (const env of code.bucketEnvs) {
    if (!String(common[env] ?? '').includes('google_storage_bucket.'))
      problems.push(`functions must get ${env} from a bucket resource`);
  }
  for (const env of ['CLOUD_SQL_INSTANCE', 'GOOGLE_CLOUD_PROJECT']) {
    if (!(env in common)) problems.push(`functions must get ${env}`);
  }
  if (!perUnit.includes('DB_USER')) problems.push('functions must get DB_USER (their own IAM database user)');
  return problems;
}

// roles/viewer but not roles/cloudsql.viewer.
const PRIMITIVE_ROLE = /\broles\/(owner|editor|viewer)\b(?!\.)/;

/** Security properties that do not depend on the code: backups, PITR, private database, roles. */
export function checkSecurityBaseline(tf: TerraformModel): string[] {
  const problems: string[] = [];
  const instances = Object.entries(tf.resources.google_sql_database_instance ?? {});
  if (instances.length === 0) problems.push('no Cloud SQL instance');
  for (const [name, instance] of instances) {
    const settings = nested(instance, 'settings');
    const backup = nested(settings, 'backup_configuration');
    const ip = nested(settings, 'ip_configuration');
    const flags = (settings?.database_flags as Block[] | undefined) ?? [];
    if (!String(instance.database_version).startsWith('POSTGRES_16'))
      problems.push(`${name}: PostgreSQL 16 expected`);
    if (instance.deletion_protection !== true || settings?.deletion_protection_enabled !== true) {
      problems.push(`${name}: deletion protection must be on`);
    }
    if (backup?.enabled !== true) problems.push(`${name}: automated backups must be on`);
    if (!backup?.start_time) problems.push(`${name}: nightly backup window must be set`);
    if (backup?.point_in_time_recovery_enabled !== true)
      problems.push(`${name}: point-in-time recovery must be on`);
    if (ip?.ipv4_enabled !== false || !ip?.private_network) problems.push(`${name}: private IP only`);
    if (!flags.some((f) => f.name === 'cloudsql.iam_authentication' && f.value === 'on')) {
      problems.push(`${name}: IAM database authentication must be on`);
    }
  }
  for (const text of [...allStrings(tf.resources), ...allStrings(tf.locals)]) {
    const role = PRIMITIVE_ROLE.exec(text);
    if (role) problems.push(`primitive role ${role[0]} is granted`);
  }
  return problems;
}
