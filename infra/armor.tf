# Cloud Armor on every API backend (edge.tf): the first of the two rate-limit layers. The
# application still throttles on its own (login, step-up, signup…); this layer stops a flood at
# Google's edge, keyed on the TCP peer address the load balancer saw, which no header can forge.
variable "armor_waf_enforce" {
  description = "Enforce the preconfigured OWASP rules (sqli, xss, lfi, rce, scanner detection). Off: they run in preview, logging what they would block; turn on once the logs show no false positives."
  type        = bool
  default     = false
}

variable "armor_throttle_count" {
  description = "Requests one address may make to the first-factor and mail-sending routes per armor_throttle_interval_sec; more are answered 429 and the address is banned for one interval."
  type        = number
  default     = 10
}

variable "armor_throttle_interval_sec" {
  description = "Window of armor_throttle_count, in seconds (Cloud Armor accepts 10…3600 in fixed steps; 900 = 15 minutes)."
  type        = number
  default     = 900
}

locals {
  # Preconfigured WAF rule sets, by rule priority.
  waf_rules = {
    "1000" = "sqli-v33-stable"
    "1001" = "xss-v33-stable"
    "1002" = "lfi-v33-stable"
    "1003" = "rce-v33-stable"
    "1004" = "scannerdetection-v33-stable"
  }

  # The routes flagged edgeThrottled in the code (edge-routes.tf, generated), by method and path.
  throttled_expression = "(${join(" || ", [for method in local.throttled_methods : "request.method == '${method}'"])}) && request.path.matches('${local.throttled_path_regex}')"
}

resource "google_compute_security_policy" "edge" {
  name        = "${local.name_prefix}-edge"
  description = "SessionForge ${var.environment}: rate-based ban on first-factor and mail-sending routes, OWASP rules."
  type        = "CLOUD_ARMOR"

  # Verbose logs name the WAF signature that matched, so preview findings can be judged.
  advanced_options_config {
    log_level    = "VERBOSE"
    json_parsing = "STANDARD"
  }

  # The application resolves dot segments (`/api/x/../login` is `/api/login`) and reads a backslash
  # as a slash (`/api/login/passkey\options` is the passkey route); the path rules below match the
  # raw path, so a path with a dot segment, plain or percent-encoded, or a backslash never passes.
  # `[[-^]` is `[`, backslash, `]` and `^` (none is in any route), written without a backslash,
  # which the CEL string would have to escape once more.
  rule {
    action      = "deny(400)"
    priority    = 90
    description = "dot segments or backslashes in the path"
    match {
      expr {
        expression = "request.path.matches('(?i)/(?:[.]|%2e){1,2}(?:/|$)|[[-^]')"
      }
    }
  }

  rule {
    action      = "rate_based_ban"
    priority    = 100
    description = "first-factor and mail-sending routes: ${var.armor_throttle_count} per address per ${var.armor_throttle_interval_sec}s"
    match {
      expr {
        expression = local.throttled_expression
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.armor_throttle_interval_sec
      rate_limit_threshold {
        count        = var.armor_throttle_count
        interval_sec = var.armor_throttle_interval_sec
      }
      ban_threshold {
        count        = var.armor_throttle_count
        interval_sec = var.armor_throttle_interval_sec
      }
    }
  }

  dynamic "rule" {
    for_each = local.waf_rules
    content {
      action      = "deny(403)"
      priority    = tonumber(rule.key)
      preview     = !var.armor_waf_enforce
      description = "OWASP ${rule.value}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': 1})"
        }
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "everything else"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
