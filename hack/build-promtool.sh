#!/usr/bin/env bash
# Builds Prometheus' promtool from the Go module proxy into the cache, only when missing.
# Prometheus 3.x is published as module versions v0.3xx.y (v0.316.0 is Prometheus 3.16.0).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/go-tools.sh"
go_install_cached promtool "${PROMETHEUS_MODULE_VERSION:-v0.316.0}" \
  github.com/prometheus/prometheus/cmd/promtool
