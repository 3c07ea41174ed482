#!/usr/bin/env bash
# Builds hack/kstatus (Flux's kstatus as a command) into the cache, only when missing.
source "$(dirname "$0")/lib.sh"
src="$(cd "$(dirname "$0")/kstatus" && pwd)"
sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
dest="$CACHE_ROOT/kstatus/$sum"
if [[ -x "$dest/kstatus" ]]; then echo "$dest/kstatus"; exit 0; fi
need_go
mkdir -p "$dest"
(cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$dest/kstatus" .) || die "could not build hack/kstatus (Go module proxy: $(go env GOPROXY))"
echo "$dest/kstatus"
