#!/usr/bin/env bash
# Builds etcd from the Go module proxy into a per-version cache, only when missing.
# go.etcd.io/etcd/server/v3 has replace lines in its go.mod, so a wrapper module requires it.
source "$(dirname "$0")/lib.sh"

dest="$CACHE_ROOT/etcd/v$ETCD_VERSION"
if [[ -x "$dest/etcd" ]]; then echo "$dest"; exit 0; fi
need_go
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"
log "building etcd v$ETCD_VERSION"
go mod init b2b-operator/testenv-etcd >/dev/null 2>&1
go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1 \
  || die "could not fetch go.etcd.io/etcd/server/v3@v$ETCD_VERSION from the Go module proxy ($(go env GOPROXY))"
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
go mod tidy >/dev/null 2>&1 || go mod tidy
mkdir -p "$dest.tmp"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dest.tmp/etcd" go.etcd.io/etcd/server/v3
rm -rf "$dest"; mv "$dest.tmp" "$dest"
log "built $("$dest/etcd" --version | sed -n 1p) into $dest"
echo "$dest"
