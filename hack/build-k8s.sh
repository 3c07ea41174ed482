#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and kube-controller-manager (for its garbage collector) of one
# Kubernetes release from the Go module proxy into a per-version cache, only the ones missing.
# Prints the folder holding them. K8S_VERSION picks the release (default in lib.sh); K8S_TOOLS
# narrows the list (hack/test-k8s-versions.sh needs only kube-apiserver and kubectl).
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces staging modules with local
# paths), so a throw-away wrapper module requires it and points every staging module at its
# published twin v0.<minor>.<patch>.
source "$(dirname "$0")/lib.sh"

dest="$CACHE_ROOT/k8s/v$K8S_VERSION"
read -r -a TOOLS <<<"${K8S_TOOLS:-kube-apiserver kubectl kube-controller-manager}"
missing_tools() { local t; for t in "${TOOLS[@]}"; do [[ -x "$dest/$t" ]] || echo "$t"; done; }
[[ -z "$(missing_tools)" ]] && { echo "$dest"; exit 0; }
need_go
# One build per version at a time: a second would repeat the same minutes of work.
mkdir -p "$CACHE_ROOT/k8s"
exec 9>"$dest.lock"
flock 9
mapfile -t missing < <(missing_tools)
(( ${#missing[@]} == 0 )) && { echo "$dest"; exit 0; }

minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
staging_version="v0.${K8S_VERSION#*.}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"
log "building Kubernetes v$K8S_VERSION (${missing[*]}); a cold build takes several minutes"
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
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  for t in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$t"; done
  printf ')\n'
} > tools.go
go mod tidy >/dev/null 2>&1 || go mod tidy
ver=k8s.io/component-base/version
ldflags="-s -w -X $ver.gitVersion=v$K8S_VERSION -X $ver.gitMajor=1 -X $ver.gitMinor=$minor -X $ver.gitTreeState=clean"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
tmp="$dest.tmp.$$"
mkdir -p "$tmp"
for t in "${missing[@]}"; do
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/$t" "k8s.io/kubernetes/cmd/$t"
done
mkdir -p "$dest"
for t in "${missing[@]}"; do mv "$tmp/$t" "$dest/$t"; done
rm -rf "$tmp"
log "built ${missing[*]} of $("$dest/kube-apiserver" --version) into $dest"
echo "$dest"
