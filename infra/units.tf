# The deploy units, one line each. tests/infra checks this table against the code: every unit that
# functions/*/index.ts registers, the edge route table routes to, or shared/bus/topics.ts subscribes.
#   http:     served through the load balancer (edge.tf; invokable by anyone who gets through it,
#             the app does authentication); its ingress refuses every other caller
#   consumes: topics pushed to the unit (one subscription + dead-letter topic each, pubsub.tf)
#   secrets:  Secret Manager secrets the unit may read (accessor on those secrets only)
#   roles:    extra project roles; bucket_roles: role per bucket key in local.buckets
#   concurrency, cpu: optional; requests one instance serves at once (default 1, more needs cpu >= 1).
#             audit-consumer takes 32 so deliveries for one org share a commit (functions/audit-consumer).
locals {
  units = {
    meta             = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "256Mi", min_instances = 0, max_instances = 5 }
    accounts         = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "512Mi", min_instances = 0, max_instances = 20 }
    login            = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key", "mfa-encryption-key", "oauth-state-key", "sso-seal-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "512Mi", min_instances = 1, max_instances = 40 }
    sessions         = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key", "mfa-encryption-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "512Mi", min_instances = 1, max_instances = 40 }
    orgs             = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "512Mi", min_instances = 0, max_instances = 20 }
    audit            = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key", "audit-signing-key"], roles = ["roles/datastore.user"], bucket_roles = { audit_checkpoints = "roles/storage.objectViewer" }, memory = "256Mi", min_instances = 0, max_instances = 10 }
    keys             = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "256Mi", min_instances = 1, max_instances = 40 }
    recordings       = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key", "blob-url-key"], roles = ["roles/datastore.user"], bucket_roles = { recordings = "roles/storage.objectViewer" }, memory = "512Mi", min_instances = 0, max_instances = 20 }
    allowlist        = { http = true, consumes = [], secrets = ["password-pepper", "mail-seal-key"], roles = [], bucket_roles = {}, memory = "256Mi", min_instances = 0, max_instances = 10 }
    "audit-consumer" = { http = false, consumes = ["audit-events", "audit-checkpoint"], secrets = ["audit-signing-key"], roles = [], bucket_roles = { audit_checkpoints = "roles/storage.objectUser" }, memory = "512Mi", min_instances = 0, max_instances = 5, concurrency = 32, cpu = "1" }
    notify           = { http = false, consumes = ["mail-outbox", "security-events"], secrets = ["mail-seal-key", "smtp-url"], roles = [], bucket_roles = {}, memory = "256Mi", min_instances = 0, max_instances = 10 }
    revocations      = { http = false, consumes = ["session-revoked", "maintenance-sweep"], secrets = ["password-pepper", "mail-seal-key"], roles = ["roles/datastore.user"], bucket_roles = {}, memory = "256Mi", min_instances = 0, max_instances = 10 }
    archive          = { http = false, consumes = ["recording-stopped", "recordings-sweep"], secrets = [], roles = ["roles/datastore.user"], bucket_roles = { recordings = "roles/storage.objectAdmin" }, memory = "512Mi", min_instances = 0, max_instances = 10 }
    "backup-verify"  = { http = false, consumes = ["backup-verify"], secrets = [], roles = ["roles/cloudsql.viewer"], bucket_roles = {}, memory = "256Mi", min_instances = 0, max_instances = 1 }
    # Clones the instance into a scratch one and deletes it again (cloudsql.admin), reads the signed
    # checkpoints to verify the copy's chains (audit-signing-key: the trusted public key).
    "restore-drill"  = { http = false, consumes = ["restore-drill"], secrets = ["audit-signing-key"], roles = ["roles/cloudsql.admin"], bucket_roles = { audit_checkpoints = "roles/storage.objectViewer" }, memory = "512Mi", min_instances = 0, max_instances = 1 }
  }

  # Every Pub/Sub topic (shared/bus/topics.ts topicSchemas).
  topics = ["mail-outbox", "security-events", "session-revoked", "recording-stopped", "audit-events", "audit-checkpoint", "backup-verify", "recordings-sweep", "maintenance-sweep", "allowlist-changed", "restore-drill"]

  # Cloud Scheduler: topic => cron (shared/bus/topics.ts schedules), in UTC.
  schedules = {
    "audit-checkpoint"  = "0 * * * *"
    "backup-verify"     = "0 6 * * 1"
    "recordings-sweep"  = "30 * * * *"
    "maintenance-sweep" = "15 * * * *"
    "restore-drill"     = var.restore_drill_schedule
  }

  # One push subscription per (topic, unit), named <topic>--<unit>: the consumer reads the topic
  # from that name when a message carries no `topic` attribute (shared/bus/consumer.ts).
  subscriptions = merge([
    for unit, spec in local.units : {
      for topic in spec.consumes : "${topic}--${unit}" => { topic = topic, unit = unit }
    }
  ]...)

  # Every (unit, secret) and (unit, role) pair, for IAM bindings.
  unit_secrets = merge([
    for unit, spec in local.units : { for secret in spec.secrets : "${unit}/${secret}" => { unit = unit, secret = secret } }
  ]...)
  unit_roles = merge([
    for unit, spec in local.units : { for role in spec.roles : "${unit}/${role}" => { unit = unit, role = role } }
  ]...)
  unit_bucket_roles = merge([
    for unit, spec in local.units : { for bucket, role in spec.bucket_roles : "${unit}/${bucket}" => { unit = unit, bucket = bucket, role = role } }
  ]...)

  # Every function connects to Cloud SQL as its own IAM database user.
  unit_db_roles = merge([
    for unit in keys(local.units) : { for role in ["roles/cloudsql.client", "roles/cloudsql.instanceUser"] : "${unit}/${role}" => { unit = unit, role = role } }
  ]...)

  name_prefix = "sf-${var.environment}"
}
