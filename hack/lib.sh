# Shared helpers for the test-environment scripts. Sourced, not run.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
LOWKEY_VERSION="${LOWKEY_VERSION:-7.1.0}"

CACHE_ROOT="${B2B_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/b2b-operator}"

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH; it is needed to build etcd and kube-apiserver (install Go >= 1.26, or set KUBEBUILDER_ASSETS to a folder holding etcd, kube-apiserver and kubectl)"
}

# Java 25 for Lowkey Vault >= 5: JAVA25_HOME, then the JDKs under /usr/lib/jvm, then PATH.
find_java25() {
  local candidates=()
  [[ -n "${JAVA25_HOME:-}" ]] && candidates+=("$JAVA25_HOME/bin/java")
  local d
  for d in /usr/lib/jvm/*; do [[ -x "$d/bin/java" ]] && candidates+=("$d/bin/java"); done
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  local j v
  for j in "${candidates[@]}"; do
    v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | sed -n 1p)
    if [[ -n "$v" && "$v" -ge 25 ]]; then echo "$j"; return 0; fi
  done
  die "Java 25 or newer is needed to run the Lowkey Vault emulator; none found (looked at JAVA25_HOME, /usr/lib/jvm/*, PATH). On Debian: apt-get install openjdk-25-jre-headless, or set JAVA25_HOME"
}
