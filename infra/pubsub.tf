# Every topic, and a push subscription per (topic, consuming unit) to that unit's function with an
# OIDC token, exponential retry, and a dead-letter topic after 10 failed deliveries. Each
# dead-letter topic has a pull subscription so dead letters are kept and can be inspected/replayed.
data "google_project" "current" {}

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.current.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Topics each unit's code publishes to (shared/bus/publishers.ts; tests/infra holds the two
  # equal). Nothing here publishes to audit-events: that topic is for other services.
  unit_publishes = {
    meta             = []
    accounts         = ["mail-outbox", "session-revoked", "webhook-deliveries"]
    login            = ["mail-outbox", "session-revoked", "webhook-deliveries"]
    sessions         = ["session-revoked", "webhook-deliveries"]
    orgs             = ["mail-outbox", "session-revoked", "webhook-deliveries"]
    audit            = ["session-revoked", "webhook-deliveries"]
    keys             = ["session-revoked", "webhook-deliveries"]
    recordings       = ["recording-stopped", "session-revoked", "webhook-deliveries"]
    allowlist        = ["allowlist-changed", "session-revoked", "webhook-deliveries"]
    "audit-consumer" = ["webhook-deliveries"]
    notify           = []
    revocations      = ["webhook-deliveries"]
    archive          = ["recording-stopped", "webhook-deliveries"]
    "backup-verify"  = ["security-events"]
    "restore-drill"  = []
    webhooks         = ["mail-outbox", "webhook-deliveries"]
  }

  unit_publisher_pairs = merge([
    for unit, topics in local.unit_publishes : { for topic in topics : "${unit}/${topic}" => { unit = unit, topic = topic } }
  ]...)
}

variable "audit_event_publishers" {
  description = "Emails of the service accounts of other SessionForge services allowed to publish to audit-events (machines, billing). Only they may; no unit of this product does."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for email in var.audit_event_publishers : can(regex("^[^@\\s]+@[a-z0-9.-]+\\.gserviceaccount\\.com$", email))])
    error_message = "audit_event_publishers: service account emails (…@….gserviceaccount.com)."
  }
}

# The external services' accounts publish to audit-events and nowhere else; the consumer accepts
# only their own actions from them (shared/audit/external.ts).
resource "google_pubsub_topic_iam_member" "audit_events_publisher" {
  for_each = toset(var.audit_event_publishers)
  topic    = google_pubsub_topic.topic["audit-events"].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${each.key}"
}

resource "google_pubsub_topic" "topic" {
  for_each                   = toset(local.topics)
  name                       = each.key
  message_retention_duration = "604800s"
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.subscriptions
  name     = "${each.key}--dead-letter"
}

resource "google_pubsub_subscription" "push" {
  for_each                   = local.subscriptions
  name                       = each.key
  topic                      = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = google_cloudfunctions2_function.unit[each.value.unit].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = google_cloudfunctions2_function.unit[each.value.unit].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = 10
  }

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.subscriptions
  name                       = "${each.key}--dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering needs the Pub/Sub service agent to publish to the dead-letter topic and to
# acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.subscriptions
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.subscriptions
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
