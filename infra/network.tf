# Cloud SQL has no public IP: functions reach its private IP through a Serverless VPC Access
# connector, over a private services range peered with the network.
data "google_compute_network" "main" {
  name = var.network
}

resource "google_compute_global_address" "private_services" {
  name          = "${local.name_prefix}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = data.google_compute_network.main.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = data.google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

resource "google_vpc_access_connector" "functions" {
  name          = "${local.name_prefix}-fn"
  region        = var.region
  network       = data.google_compute_network.main.name
  ip_cidr_range = var.vpc_connector_cidr
  min_instances = 2
  max_instances = 3
}

# Cloud Build runs `npm run migrate` on this private pool, peered with the network, because the
# database has no public IP (cloudbuild.yaml `options.pool`).
resource "google_cloudbuild_worker_pool" "deploy" {
  name     = "${local.name_prefix}-deploy"
  location = var.region

  worker_config {
    machine_type = "e2-standard-2"
    disk_size_gb = 100
  }

  network_config {
    peered_network = data.google_compute_network.main.id
  }

  depends_on = [google_service_networking_connection.private_services]
}
