#!/usr/bin/env bash
# Builds kube-apiserver and kubectl of one Kubernetes release from the Go module proxy into a
# per-version cache, only when missing. Prints the folder holding them.
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces staging modules with local
# paths), so a throw-away wrapper module requires it and points every staging module at its
# published twin v0.<minor>.<patch>.
source "$(dirname "$0")/lib.sh"

dest="$CACHE_ROOT/k8s/v$K8S_VERSION"
if [[ -x "$dest/kube-apiserver" && -x "$dest/kubectl" ]]; then echo "$dest"; exit 0; fi
need_go

minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
staging_version="v0.${K8S_VERSION#*.}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"
log "building Kubernetes v$K8S_VERSION (kube-apiserver, kubectl); a cold build takes several minutes"
go mod init b2b-operator/testenv-k8s >/dev/null 2>&1
gomod_json="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION")" \
  || die "could not download k8s.io/kubernetes@v$K8S_VERSION from the Go module proxy ($(go env GOPROXY))"
gomod_file="$(printf '%s' "$gomod_json" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
[[ -f "$gomod_file" ]] || die "no go.mod found for k8s.io/kubernetes@v$K8S_VERSION"

# Every `k8s.io/x => ./staging/src/k8s.io/x` line of the release's go.mod, mapped to k8s.io/x@v0.Y.Z.
edits=(-require="k8s.io/kubernetes@v$K8S_VERSION")
while read -r mod; do
  edits+=(-replace="$mod=$mod@$staging_version")
done < <(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod_file")
(( ${#edits[@]} > 10 )) || die "found no staging replace lines in $gomod_file"
go mod edit "${edits[@]}"
go_line="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod_file")"
go mod edit -go="$go_line"
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
go mod tidy >/dev/null 2>&1 || go mod tidy
ver=k8s.io/component-base/version
ldflags="-s -w -X $ver.gitVersion=v$K8S_VERSION -X $ver.gitMajor=1 -X $ver.gitMinor=$minor -X $ver.gitTreeState=clean"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
mkdir -p "$dest.tmp"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dest.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dest.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
rm -rf "$dest"; mv "$dest.tmp" "$dest"
log "built $("$dest/kube-apiserver" --version) into $dest"
echo "$dest"
