terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
  # State holds resource metadata only (no secret values: secrets.tf creates empty secrets).
  backend "gcs" {}
}

provider "google" {
  project = var.project
  region  = var.region
}
