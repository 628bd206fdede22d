# The Firestore database exists only when the fast state lives there (FAST_STATE_STORE=firestore):
# revocation feed and rate-limit windows. Firestore rules and indexes (infra/firestore/) are deployed
# with `firebase deploy --only firestore` in that case only (README, Deploy).
resource "google_firestore_database" "main" {
  count                   = var.fast_state_store == "firestore" ? 1 : 0
  name                    = "(default)"
  location_id             = var.region
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  # `terraform destroy` leaves the database (and its data) in place; README, Teardown.
  deletion_policy = "ABANDON"
}

output "fast_state_store" {
  description = "Where the fast state lives; cloudbuild.yaml deploys Firestore rules and indexes only for firestore."
  value       = var.fast_state_store
}
