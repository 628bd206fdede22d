output "cloud_sql_connection_name" {
  description = "CLOUD_SQL_INSTANCE for `npm run migrate` in Cloud Build."
  value       = google_sql_database_instance.main.connection_name
}

output "migrator_db_user" {
  description = "DB_USER for `npm run migrate` (the migrator's IAM database user)."
  value       = google_sql_user.migrator.name
}

output "function_db_users" {
  description = "IAM database user of each unit; `npm run db:grant` gives them access to the tables."
  value       = { for unit, user in google_sql_user.unit : unit => user.name }
}

output "function_urls" {
  description = "URL of each unit's function."
  value       = { for unit, fn in google_cloudfunctions2_function.unit : unit => fn.service_config[0].uri }
}

output "buckets" {
  description = "Bucket names by purpose."
  value       = local.bucket_names
}

output "service_accounts" {
  description = "Service account of each unit."
  value       = { for unit, sa in google_service_account.unit : unit => sa.email }
}

output "cloud_build_worker_pool" {
  description = "Private worker pool for cloudbuild.yaml (_WORKER_POOL)."
  value       = google_cloudbuild_worker_pool.deploy.id
}
