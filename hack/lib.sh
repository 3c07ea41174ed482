# Shared helpers for the test-environment scripts. Sourced, not run.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"

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

# The Lowkey Vault source folder: LOWKEY_VAULT_SRC, else shared/lowkey-vault beside the repository
# (for a git worktree, also beside its main checkout). Prints nothing when there is none.
lowkey_vault_src() {
  if [[ -n "${LOWKEY_VAULT_SRC:-}" ]]; then
    [[ -d "$LOWKEY_VAULT_SRC" ]] || die "LOWKEY_VAULT_SRC=$LOWKEY_VAULT_SRC does not exist"
    echo "$LOWKEY_VAULT_SRC"; return 0
  fi
  local root common
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  common="$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  local candidate
  for candidate in "$root/../shared/lowkey-vault" ${common:+"$(dirname "$common")/../shared/lowkey-vault"}; do
    if [[ -f "$candidate/build.sh" ]]; then (cd "$candidate" && pwd); return 0; fi
  done
}
