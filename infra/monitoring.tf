# notify logs every `security-events` message (backup-missing, new-device…) as an ERROR line with an
# `alert` field; this metric counts them and the policy pages the operators' channels.
variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids that receive security alerts (backup missing…)."
  type        = list(string)
  default     = []
}

resource "google_logging_metric" "security_alerts" {
  name   = "${local.name_prefix}-security-alerts"
  filter = "resource.type=\"cloud_run_revision\" AND severity>=ERROR AND jsonPayload.alert:*"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "alert"
      value_type = "STRING"
    }
  }
  label_extractors = {
    alert = "EXTRACT(jsonPayload.alert)"
  }
}

resource "google_monitoring_alert_policy" "security_alerts" {
  display_name          = "SessionForge ${var.environment}: security alert"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "a security event was raised"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.security_alerts.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_COUNT"
      }
    }
  }
}

# The monthly restore drill (functions/restore-drill) logs "restore drill failed" at ERROR when a
# copy could not be made, did not verify, or its scratch instance could not be deleted.
resource "google_logging_metric" "restore_drill_failed" {
  name   = "${local.name_prefix}-restore-drill-failed"
  filter = "resource.type=\"cloud_run_revision\" AND severity>=ERROR AND jsonPayload.message=\"restore drill failed\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_monitoring_alert_policy" "restore_drill_failed" {
  display_name          = "SessionForge ${var.environment}: restore drill failed"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "the monthly restore drill failed"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.restore_drill_failed.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_COUNT"
      }
    }
  }
}
