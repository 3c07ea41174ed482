#!/usr/bin/env bash
# Builds the External Secrets Operator controller (github.com/external-secrets/external-secrets,
# main package at the module root) from the Go module proxy into a per-version cache, only when
# missing, beside its CRDs: $CACHE_ROOT/eso/<version>/external-secrets and crds/*.yaml (one file
# per CRD, from config/crds/bases; apply them server-side: the SecretStore CRDs exceed the
# 256 KiB last-applied annotation of a client-side apply). Prints the binary's path.
# Only `make bench-peer` needs it (the peer benchmark), never `make test`.
# Its go.mod has a replace line (sprig), so `go install module@version` refuses it: the module
# source is downloaded and built in a copy, with its own go.mod and go.sum.
# ESO_VERSION picks the release. v0.16.2 is the last one buildable from the proxy: v1.x replaces
# ./apis, ./providers/v1/* and ./generators/v1/* with nested modules, which a module zip leaves out
# and which are not published on their own.
source "$(dirname "$0")/lib.sh"

ESO_VERSION="${ESO_VERSION:-v0.16.2}"
module=github.com/external-secrets/external-secrets
dest="$CACHE_ROOT/eso/$ESO_VERSION"
ready() { [[ -x "$dest/external-secrets" && -d "$dest/crds" ]]; }
ready && { echo "$dest/external-secrets"; exit 0; }
need_go
# One build per version at a time: a second would repeat the same minutes of work.
mkdir -p "$CACHE_ROOT/eso"
exec 9>"$dest.lock"
flock 9
ready && { echo "$dest/external-secrets"; exit 0; }

log "building External Secrets Operator $ESO_VERSION from the Go module proxy (cached in $dest); a cold build takes several minutes"
json="$(go mod download -json "$module@$ESO_VERSION")" \
  || die "could not download $module@$ESO_VERSION from the Go module proxy ($(go env GOPROXY))"
src="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
[[ -f "$src/go.mod" && -f "$src/main.go" ]] || die "no go.mod and main.go in the module folder of $module@$ESO_VERSION ($src)"
crds=("$src"/config/crds/bases/*external-secrets.io_*.yaml)
[[ -f "$src/config/crds/bases/external-secrets.io_externalsecrets.yaml" ]] \
  || die "no ExternalSecret CRD under config/crds/bases in $module@$ESO_VERSION"

work="$(mktemp -d)"; tmp="$dest.tmp.$$"
trap 'rm -rf "$work" "$tmp"' EXIT
# The module cache is read-only; its documentation (most of the module) is not needed to build.
tar -C "$src" --exclude=./docs -cf - . | tar -C "$work" -xf -
chmod -R u+w "$work"
mkdir -p "$tmp/crds"
(cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/external-secrets" .) \
  || die "could not build $module@$ESO_VERSION (Go module proxy: $(go env GOPROXY))"
cp "${crds[@]}" "$tmp/crds/" && chmod u+w "$tmp"/crds/*
rm -rf "$dest" && mv "$tmp" "$dest"
log "built External Secrets Operator $ESO_VERSION and its ${#crds[@]} CRDs into $dest"
echo "$dest/external-secrets"
