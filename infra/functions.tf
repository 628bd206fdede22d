# One Cloud Function (2nd gen) per unit, built from its bundle (`npm run build` → dist/<unit>/).
# Consumers are plain HTTP functions fed by the push subscriptions in pubsub.tf, so retries and
# dead letters are ours rather than an Eventarc trigger's.
data "archive_file" "unit" {
  for_each    = local.units
  type        = "zip"
  source_dir  = "${path.module}/../dist/${each.key}"
  output_path = "${path.module}/.build/${each.key}.zip"
}

resource "google_storage_bucket_object" "unit_source" {
  for_each = local.units
  name     = "${each.key}/${data.archive_file.unit[each.key].output_md5}.zip"
  bucket   = google_storage_bucket.function_sources.name
  source   = data.archive_file.unit[each.key].output_path
}

locals {
  # Environment every unit gets (shared/config/config.ts). Migrations run in Cloud Build, not at start.
  common_env = {
    GOOGLE_CLOUD_PROJECT    = var.project
    APP_URL                 = var.app_url
    CLOUD_SQL_INSTANCE      = google_sql_database_instance.main.connection_name
    DB_NAME                 = google_sql_database.app.name
    RECORDINGS_BUCKET       = google_storage_bucket.recordings.name
    AUDIT_CHECKPOINT_BUCKET = google_storage_bucket.audit_checkpoints.name
    MAIL_FROM               = var.mail_from
    FAST_STATE_STORE        = var.fast_state_store
    TRUSTED_PROXY_HOPS      = tostring(var.trusted_proxy_hops)
    MIGRATE_ON_START        = "false"
    LOG_LEVEL               = "info"
  }
}

resource "google_cloudfunctions2_function" "unit" {
  for_each = local.units
  name     = each.key
  location = var.region

  build_config {
    runtime     = "nodejs24"
    entry_point = each.key
    source {
      storage_source {
        bucket = google_storage_bucket.function_sources.name
        object = google_storage_bucket_object.unit_source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    timeout_seconds                  = each.value.http ? 60 : 300
    service_account_email            = google_service_account.unit[each.key].email
    # Only the load balancer (edge.tf) reaches HTTP units; consumers take Pub/Sub pushes, which
    # count as internal within the project. run.app refuses everyone else.
    ingress_settings                 = each.value.http ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    vpc_connector                    = google_vpc_access_connector.functions.id
    vpc_connector_egress_settings    = "PRIVATE_RANGES_ONLY"
    max_instance_request_concurrency = try(each.value.concurrency, 1)
    available_cpu                    = try(each.value.cpu, null)
    environment_variables = merge(local.common_env, {
      DB_USER = google_sql_user.unit[each.key].name
    })
  }

  depends_on = [google_project_iam_member.unit_db, google_secret_manager_secret_iam_member.unit]
}
