# The system of record: PostgreSQL 16 on Cloud SQL, private IP only, IAM database authentication,
# nightly automated backups with point-in-time recovery (SECURITY.md "Backups"; backup-verify
# checks weekly that they actually happen).
resource "google_sql_database_instance" "main" {
  name                = "${local.name_prefix}-pg"
  database_version    = "POSTGRES_16"
  region              = var.region
  deletion_protection = true

  settings {
    tier                        = var.db_tier
    edition                     = "ENTERPRISE"
    availability_type           = var.db_availability_type
    deletion_protection_enabled = true

    backup_configuration {
      enabled                        = true
      start_time                     = var.backup_start_time
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7
      backup_retention_settings {
        retained_backups = 30
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      ipv4_enabled    = false
      private_network = data.google_compute_network.main.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }

    insights_config {
      query_insights_enabled = true
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "app" {
  name     = "sessionforge"
  instance = google_sql_database_instance.main.name
}

# One IAM database user per function service account (Postgres user name = email without
# ".gserviceaccount.com"), plus the migrator Cloud Build runs `npm run migrate` as.
resource "google_sql_user" "unit" {
  for_each = local.units
  name     = trimsuffix(google_service_account.unit[each.key].email, ".gserviceaccount.com")
  instance = google_sql_database_instance.main.name
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

resource "google_sql_user" "migrator" {
  name     = trimsuffix(var.migrator_service_account, ".gserviceaccount.com")
  instance = google_sql_database_instance.main.name
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}
