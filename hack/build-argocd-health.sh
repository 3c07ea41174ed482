#!/usr/bin/env bash
# Builds hack/argocd-health (Argo CD health.lua tests on gopher-lua) into the cache, only when missing.
source "$(dirname "$0")/lib.sh"
src="$(cd "$(dirname "$0")/argocd-health" && pwd)"
sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
dest="$CACHE_ROOT/argocd-health/$sum"
if [[ -x "$dest/argocd-health" ]]; then echo "$dest/argocd-health"; exit 0; fi
need_go
mkdir -p "$dest"
(cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$dest/argocd-health" .) || die "could not build hack/argocd-health (Go module proxy: $(go env GOPROXY))"
echo "$dest/argocd-health"
