#!/usr/bin/env bash
# Builds Helm (helm.sh/helm/v3 cmd/helm) from the Go module proxy into the cache, only when missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/go-tools.sh"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
go_install_cached helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
  -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
