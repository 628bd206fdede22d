# Every secret the code reads (shared/secrets/secrets.ts secretSpecs). Terraform creates the
# secrets only; values are added with `gcloud secrets versions add` (README, Deploy), so no secret
# value ever enters Terraform state.
locals {
  secrets = ["password-pepper", "mail-seal-key", "mfa-encryption-key", "blob-url-key", "oauth-state-key", "sso-seal-key", "webhook-seal-key", "audit-signing-key", "smtp-url"]
}

resource "google_secret_manager_secret" "secret" {
  for_each  = toset(local.secrets)
  secret_id = each.key

  replication {
    auto {}
  }
}

# Each unit may read only the secrets its line in units.tf names.
resource "google_secret_manager_secret_iam_member" "unit" {
  for_each  = local.unit_secrets
  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.unit[each.value.unit].email}"
}
