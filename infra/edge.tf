# The only way in: a global external Application Load Balancer on var.domain. HTTPS with a
# Google-managed certificate (port 80 only redirects), the API routed to one serverless NEG and
# backend service per HTTP unit by the generated route table (edge-routes.tf, the same table the
# local gateway uses), Cloud Armor (armor.tf) on every API backend, and the web console from a
# private bucket through Cloud CDN on the same origin. Functions take `internal-and-cloud-load-
# balancing` ingress (functions.tf), so their run.app URLs refuse the internet.
#
# Console: a backend bucket with Cloud CDN rather than Firebase Hosting behind the load balancer.
# Hosting could only sit behind it as an internet NEG (a second CDN and TLS hop, headers in two
# places, its own *.web.app origin still public), while a backend bucket is one Terraform-managed
# origin that stays private (only Cloud CDN's fill agent may read it), shares the certificate,
# logs and headers of the API, and costs storage plus CDN egress.
variable "domain" {
  description = "Host name the load balancer serves (console and API), e.g. app.sessionforge.dev. Point its A record at output edge_ip; app_url must be https://<domain>."
  type        = string
}

locals {
  http_units = { for unit, spec in local.units : unit => spec if spec.http }

  # Console headers, set by the load balancer on every console response (the API sets its own).
  console_headers = [
    "Strict-Transport-Security: max-age=63072000; includeSubDomains",
    "X-Content-Type-Options: nosniff",
    "Referrer-Policy: same-origin",
    "X-Frame-Options: DENY",
    # Must equal consoleCsp in shared/runtime/console.ts (the local gateway's); tests/e2e/console-edge.test.ts compares them.
    "Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' https://storage.googleapis.com https://identitytoolkit.googleapis.com; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  ]
}

resource "google_compute_global_address" "edge" {
  name = "${local.name_prefix}-edge"
}

resource "google_compute_managed_ssl_certificate" "edge" {
  name = "${local.name_prefix}-edge"

  managed {
    domains = [var.domain]
  }

  lifecycle {
    precondition {
      condition     = var.app_url == "https://${var.domain}"
      error_message = "app_url must be https://<domain>: the console and the API share this one origin."
    }
  }
}

# One serverless NEG and backend service per HTTP unit; a 2nd-gen function is a Cloud Run service.
resource "google_compute_region_network_endpoint_group" "unit" {
  for_each              = local.http_units
  name                  = "${local.name_prefix}-${each.key}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  # The function's Cloud Run service, by its short name (the attribute may hold the full resource name).
  cloud_run {
    service = basename(google_cloudfunctions2_function.unit[each.key].service_config[0].service)
  }
}

resource "google_compute_backend_service" "unit" {
  for_each              = local.http_units
  name                  = "${local.name_prefix}-${each.key}"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.edge.id

  backend {
    group = google_compute_region_network_endpoint_group.unit[each.key].id
  }

  # Every request, with Cloud Armor's verdict, in the load balancer's request log.
  log_config {
    enable      = true
    sample_rate = 1
  }
}

# The console's built files (`web/dist`, copied by cloudbuild.yaml). Private: Cloud CDN's fill agent
# is the only reader, so the bucket is not a second public origin.
resource "google_storage_bucket" "console" {
  name                        = "${var.project}-${local.name_prefix}-console"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Build output only, replaced on every deploy: nothing to keep at teardown.
  force_destroy = true

  # The single-page app answers every path it does not have with its shell.
  website {
    main_page_suffix = "index.html"
    not_found_page   = "index.html"
  }
}

resource "google_storage_bucket_iam_member" "console_cdn_fill" {
  bucket = google_storage_bucket.console.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:service-${data.google_project.current.number}@cloud-cdn-fill.iam.gserviceaccount.com"
}

resource "google_compute_backend_bucket" "console" {
  name                    = "${local.name_prefix}-console"
  bucket_name             = google_storage_bucket.console.name
  enable_cdn              = true
  compression_mode        = "AUTOMATIC"
  custom_response_headers = local.console_headers

  # Hashed assets are cached at the edge; HTML is not static content, so index.html is fetched fresh.
  cdn_policy {
    cache_mode        = "CACHE_ALL_STATIC"
    default_ttl       = 3600
    client_ttl        = 3600
    max_ttl           = 86400
    serve_while_stale = 86400
  }
}

# API paths go to their unit, first match wins (priorities follow the table); all else is console.
resource "google_compute_url_map" "edge" {
  name            = "${local.name_prefix}-edge"
  default_service = google_compute_backend_bucket.console.id

  host_rule {
    hosts        = [var.domain]
    path_matcher = "app"
  }

  path_matcher {
    name            = "app"
    default_service = google_compute_backend_bucket.console.id

    dynamic "route_rules" {
      for_each = local.edge_routes
      content {
        priority = route_rules.value.priority
        service  = google_compute_backend_service.unit[route_rules.value.unit].id
        match_rules {
          full_path_match     = route_rules.value.exact ? route_rules.value.path : null
          path_template_match = route_rules.value.exact ? null : route_rules.value.path
        }
      }
    }
  }
}

resource "google_compute_ssl_policy" "edge" {
  name            = "${local.name_prefix}-edge"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "edge" {
  name             = "${local.name_prefix}-edge"
  url_map          = google_compute_url_map.edge.id
  ssl_certificates = [google_compute_managed_ssl_certificate.edge.id]
  ssl_policy       = google_compute_ssl_policy.edge.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "${local.name_prefix}-https"
  target                = google_compute_target_https_proxy.edge.id
  ip_address            = google_compute_global_address.edge.id
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

# Port 80 answers every request with a redirect to the same URL over HTTPS, and serves nothing.
resource "google_compute_url_map" "http_redirect" {
  name = "${local.name_prefix}-http-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "http_redirect" {
  name    = "${local.name_prefix}-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "${local.name_prefix}-http"
  target                = google_compute_target_http_proxy.http_redirect.id
  ip_address            = google_compute_global_address.edge.id
  port_range            = "80"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

output "edge_ip" {
  description = "The load balancer's address: point var.domain's A record here (the certificate is issued once it resolves)."
  value       = google_compute_global_address.edge.address
}

output "console_bucket" {
  description = "Bucket the deploy copies web/dist into (served at / through Cloud CDN)."
  value       = google_storage_bucket.console.name
}
