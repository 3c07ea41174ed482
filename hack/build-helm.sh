#!/usr/bin/env bash
# Builds Helm (helm.sh/helm/v3 cmd/helm) from the Go module proxy into the cache, only when missing.
source "$(dirname "$0")/lib.sh"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
dest="$CACHE_ROOT/helm/$HELM_VERSION"
if [[ -x "$dest/helm" ]]; then echo "$dest/helm"; exit 0; fi
need_go
mkdir -p "$dest.tmp"
log "building helm $HELM_VERSION (cached in $dest)"
GOBIN="$dest.tmp" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" || die "could not build helm $HELM_VERSION (Go module proxy: $(go env GOPROXY))"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "$dest/helm"
