variable "project" {
  description = "GCP project id."
  type        = string
}

variable "region" {
  description = "Region for Cloud SQL, functions, buckets, scheduler and the serverless NEGs."
  type        = string
  default     = "europe-west1"
}

variable "environment" {
  description = "Short environment name used in resource names (prod, staging)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment: 2-15 lowercase letters, digits or dashes."
  }
}

variable "app_url" {
  description = "Public origin of the app: https://<domain>, the load balancer's (edge.tf), e.g. https://app.sessionforge.dev."
  type        = string
}

variable "mail_from" {
  description = "From header of outgoing mail."
  type        = string
  default     = "SessionForge <no-reply@sessionforge.dev>"
}

variable "network" {
  description = "VPC network the functions reach Cloud SQL's private IP through."
  type        = string
  default     = "default"
}

variable "vpc_connector_cidr" {
  description = "Unused /28 in the network for the Serverless VPC Access connector."
  type        = string
  default     = "10.8.0.0/28"
}

variable "db_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-2-7680"
}

variable "db_availability_type" {
  description = "REGIONAL (high availability) or ZONAL."
  type        = string
  default     = "REGIONAL"
}

variable "backup_start_time" {
  description = "UTC HH:MM at which the nightly automated backup window starts."
  type        = string
  default     = "02:00"
}

variable "migrator_service_account" {
  description = "Email of the service account Cloud Build runs `npm run migrate` as (gets an IAM database user)."
  type        = string
}

variable "trusted_proxy_hops" {
  description = "TRUSTED_PROXY_HOPS: the client is this many entries from the right of X-Forwarded-For; 2 behind the external Application Load Balancer, which appends `<client>, <its own address>` (README, Deploy)."
  type        = number
  default     = 2
}

variable "fast_state_store" {
  description = "FAST_STATE_STORE: postgres or firestore (then Terraform creates the Firestore database, firestore.tf)."
  type        = string
  default     = "postgres"
  validation {
    condition     = contains(["postgres", "firestore"], var.fast_state_store)
    error_message = "fast_state_store: postgres or firestore."
  }
}

variable "recordings_retention_days" {
  description = "Recordings older than this are deleted by the bucket lifecycle."
  type        = number
  default     = 365
}

variable "audit_checkpoint_retention_days" {
  description = "Retention policy of the audit checkpoint bucket: objects cannot be deleted or replaced before this age."
  type        = number
  default     = 400
}

variable "lock_audit_checkpoint_retention" {
  description = "Lock the checkpoint bucket's retention policy (irreversible: it can then never be shortened or removed, nor the bucket deleted early). Turn on in production once the period is settled."
  type        = bool
  default     = false
}

variable "restore_drill_schedule" {
  description = "Cron (UTC) of the restore drill (functions/restore-drill): monthly by default, the 1st at 04:00, away from the nightly backup window. Each run clones the Cloud SQL instance into a scratch instance for a few minutes."
  type        = string
  default     = "0 4 1 * *"

  validation {
    condition     = length(split(" ", trimspace(var.restore_drill_schedule))) == 5
    error_message = "restore_drill_schedule: a cron expression of five fields, e.g. \"0 4 1 * *\"."
  }
}
