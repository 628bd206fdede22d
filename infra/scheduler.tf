# Cloud Scheduler publishes a tick to each scheduled topic (shared/bus/topics.ts `schedules`; the
# local runtime plays the same table in shared/runtime/scheduler.ts). Its body is fixed, so the tick
# is marked `scheduled` and the consumer takes the event id from the Pub/Sub message id
# (shared/bus/scheduled.ts), which is unique per publish.
resource "google_cloud_scheduler_job" "schedule" {
  for_each  = local.schedules
  name      = "${local.name_prefix}-${each.key}"
  region    = var.region
  schedule  = each.value
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.key].id
    data       = base64encode("{}")
    attributes = { topic = each.key, scheduled = "true" }
  }

  retry_config {
    retry_count = 3
  }
}
