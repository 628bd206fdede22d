# The weekly dependency audit (README "Dependency audit"): a Cloud Build trigger runs
# `npm run audit:deps` on the repository's main branch every week, keeps the JSON report in its own
# bucket for 30 days, and fails the build (Cloud Build's failed-build notifications) on any high or
# critical advisory in production dependencies — or when the registry gave no verdict.

variable "source_repo_uri" {
  description = "HTTPS URL of the repository Cloud Build checks out for the weekly dependency audit (a connected GitHub repository)."
  type        = string
  default     = "https://github.com/sessionforge/sessionforge-security"
}

variable "dependency_audit_schedule" {
  description = "Cron (UTC) of the dependency audit; weekly by default (Mondays 05:00)."
  type        = string
  default     = "0 5 * * 1"
}

resource "google_storage_bucket" "dependency_audit_reports" {
  name                        = "${var.project}-${local.name_prefix}-dependency-audit"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}

# Runs the build and is the identity Cloud Scheduler starts it with; it may write reports, nothing else.
resource "google_service_account" "dependency_audit" {
  account_id   = "${local.name_prefix}-deps-audit"
  display_name = "SessionForge weekly dependency audit"
}

resource "google_project_iam_member" "dependency_audit" {
  for_each = toset(["roles/cloudbuild.builds.editor", "roles/logging.logWriter"])
  project  = var.project
  role     = each.value
  member   = "serviceAccount:${google_service_account.dependency_audit.email}"
}

resource "google_storage_bucket_iam_member" "dependency_audit_writer" {
  bucket = google_storage_bucket.dependency_audit_reports.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.dependency_audit.email}"
}

resource "google_cloudbuild_trigger" "dependency_audit" {
  name            = "${local.name_prefix}-dependency-audit"
  location        = var.region
  description     = "Weekly npm audit of production dependencies; fails on high or critical."
  service_account = google_service_account.dependency_audit.id

  source_to_build {
    uri       = var.source_repo_uri
    ref       = "refs/heads/main"
    repo_type = "GITHUB"
  }

  build {
    timeout = "1200s"

    # The audit never fails this step, so the report is uploaded whatever the verdict.
    step {
      id     = "audit"
      name   = "node:24-bookworm"
      script = "npm ci && npm run audit:deps -- --out /workspace/report.json; echo $? > /workspace/exit-code"
    }

    step {
      id     = "keep-report"
      name   = "gcr.io/cloud-builders/gcloud"
      script = "gcloud storage cp /workspace/report.json gs://${google_storage_bucket.dependency_audit_reports.name}/$(date -u +%Y-%m-%d)-$BUILD_ID.json"
    }

    # 1: high or critical advisories; 2: no verdict (registry unreachable). Both fail the build.
    step {
      id     = "verdict"
      name   = "bash"
      script = "exit $(cat /workspace/exit-code)"
    }

    options {
      logging = "CLOUD_LOGGING_ONLY"
    }
  }
}

resource "google_cloud_scheduler_job" "dependency_audit" {
  name      = "${local.name_prefix}-dependency-audit"
  region    = var.region
  schedule  = var.dependency_audit_schedule
  time_zone = "Etc/UTC"

  http_target {
    uri         = "https://cloudbuild.googleapis.com/v1/projects/${var.project}/locations/${var.region}/triggers/${google_cloudbuild_trigger.dependency_audit.trigger_id}:run"
    http_method = "POST"
    body        = base64encode(jsonencode({ source = { branchName = "main" } }))

    oauth_token {
      service_account_email = google_service_account.dependency_audit.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
}
