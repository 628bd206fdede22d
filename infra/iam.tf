# One service account per function with only what its unit needs (units.tf). No primitive roles
# (owner/editor/viewer) anywhere: tests/infra fails on one.
resource "google_service_account" "unit" {
  for_each     = local.units
  account_id   = "fn-${each.key}"
  display_name = "SessionForge ${each.key} function (${var.environment})"
}

# Cloud SQL connector + IAM database login for every unit.
resource "google_project_iam_member" "unit_db" {
  for_each = local.unit_db_roles
  project  = var.project
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.unit[each.value.unit].email}"
}

resource "google_project_iam_member" "unit_extra" {
  for_each = local.unit_roles
  project  = var.project
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.unit[each.value.unit].email}"
}

resource "google_storage_bucket_iam_member" "unit" {
  for_each = local.unit_bucket_roles
  bucket   = local.bucket_names[each.value.bucket]
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.unit[each.value.unit].email}"
}

# Each unit may publish only to the topics its code publishes to (local.unit_publishes, pubsub.tf,
# from shared/bus/publishers.ts; a deployed unit's outbox relay drains only those), on the topics,
# never project-wide.
resource "google_pubsub_topic_iam_member" "unit_publisher" {
  for_each = local.unit_publisher_pairs
  topic    = google_pubsub_topic.topic[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.unit[each.value.unit].email}"
}

# HTTP units are reached through Firebase Hosting, which calls them unauthenticated; the
# application authenticates every request itself.
resource "google_cloud_run_service_iam_member" "public_invoker" {
  for_each = { for unit, spec in local.units : unit => spec if spec.http }
  location = var.region
  service  = google_cloudfunctions2_function.unit[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Push subscriptions authenticate with an OIDC token of this account; only it may invoke consumers.
resource "google_service_account" "pubsub_push" {
  account_id   = "pubsub-push"
  display_name = "SessionForge Pub/Sub push (${var.environment})"
}

resource "google_cloud_run_service_iam_member" "push_invoker" {
  for_each = { for unit, spec in local.units : unit => spec if length(spec.consumes) > 0 }
  location = var.region
  service  = google_cloudfunctions2_function.unit[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# The migrator (Cloud Build) logs in to Cloud SQL as an IAM user to apply migrations.
resource "google_project_iam_member" "migrator_db" {
  for_each = toset(["roles/cloudsql.client", "roles/cloudsql.instanceUser"])
  project  = var.project
  role     = each.key
  member   = "serviceAccount:${var.migrator_service_account}"
}

# Playback links are V4 signed URLs signed through IAM signBlob as the recordings function's own
# account: it may create tokens for itself only, never for another account.
resource "google_service_account_iam_member" "recordings_sign_blob" {
  service_account_id = google_service_account.unit["recordings"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.unit["recordings"].email}"
}
