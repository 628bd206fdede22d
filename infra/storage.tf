# Buckets the code names through config (RECORDINGS_BUCKET, AUDIT_CHECKPOINT_BUCKET), plus the
# function source archives. None is public: uniform access and public access prevention enforced.
locals {
  buckets = {
    recordings        = { env = "RECORDINGS_BUCKET", name = "${var.project}-${local.name_prefix}-recordings" }
    audit_checkpoints = { env = "AUDIT_CHECKPOINT_BUCKET", name = "${var.project}-${local.name_prefix}-audit-checkpoints" }
  }
}

resource "google_storage_bucket" "recordings" {
  name                        = local.buckets.recordings.name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = var.recordings_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

# Signed audit checkpoints: a retention policy keeps any checkpoint from being deleted or replaced
# before it ages out, so truncating the audit log's tail stays detectable (SECURITY.md "Audit log").
# No Object Versioning: Cloud Storage refuses it on a bucket with a retention policy, and the
# policy already forbids the overwrites versioning would preserve. Soft delete keeps deleted
# objects (after their retention) recoverable for 30 days more.
resource "google_storage_bucket" "audit_checkpoints" {
  name                        = local.buckets.audit_checkpoints.name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  retention_policy {
    retention_period = var.audit_checkpoint_retention_days * 86400
    is_locked        = var.lock_audit_checkpoint_retention
  }

  soft_delete_policy {
    retention_duration_seconds = 30 * 86400
  }
}

locals {
  bucket_names = {
    recordings        = google_storage_bucket.recordings.name
    audit_checkpoints = google_storage_bucket.audit_checkpoints.name
  }
}

resource "google_storage_bucket" "function_sources" {
  name                        = "${var.project}-${local.name_prefix}-function-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }
}
