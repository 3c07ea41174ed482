# Builds small Go tools into the cache, once; sourced by hack/build-<tool>.sh after lib.sh.
# Each prints the cached binary's path.

# go_install_cached NAME VERSION PACKAGE [go flags...]: `go install PACKAGE@VERSION`.
go_install_cached() {
  local name="$1" version="$2" package="$3"; shift 3
  local dest="$CACHE_ROOT/$name/$version"
  if [[ -x "$dest/$name" ]]; then echo "$dest/$name"; return 0; fi
  need_go
  log "building $name $version from the Go module proxy (cached in $dest)"
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  GOBIN="$dest.tmp" CGO_ENABLED=0 go install -trimpath "$@" "$package@$version" \
    || die "could not build $name $version (Go module proxy: $(go env GOPROXY))"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "$dest/$name"
}

# go_build_cached NAME: builds the module in hack/NAME, keyed by its go.mod, go.sum and main.go.
go_build_cached() {
  local name="$1"
  local src; src="$(cd "$(dirname "${BASH_SOURCE[0]}")/$name" && pwd)"
  local sum; sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
  local dest="$CACHE_ROOT/$name/$sum"
  if [[ -x "$dest/$name" ]]; then echo "$dest/$name"; return 0; fi
  need_go
  mkdir -p "$dest"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$dest/$name" .) \
    || die "could not build hack/$name (Go module proxy: $(go env GOPROXY))"
  echo "$dest/$name"
}
