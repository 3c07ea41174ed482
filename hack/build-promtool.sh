#!/usr/bin/env bash
# Builds Prometheus' promtool from the Go module proxy into the cache, only when missing.
# Prometheus 3.x is published as module versions v0.3xx.y (v0.316.0 is Prometheus 3.16.0).
source "$(dirname "$0")/lib.sh"
PROMETHEUS_MODULE_VERSION="${PROMETHEUS_MODULE_VERSION:-v0.316.0}"
dest="$CACHE_ROOT/promtool/$PROMETHEUS_MODULE_VERSION"
if [[ -x "$dest/promtool" ]]; then echo "$dest/promtool"; exit 0; fi
need_go
mkdir -p "$dest.tmp"
log "building promtool $PROMETHEUS_MODULE_VERSION (cached in $dest)"
GOBIN="$dest.tmp" CGO_ENABLED=0 go install -trimpath \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" || die "could not build promtool (Go module proxy: $(go env GOPROXY))"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "$dest/promtool"
