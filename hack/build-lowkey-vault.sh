#!/usr/bin/env bash
# Obtains the Lowkey Vault (Azure Key Vault emulator) jar into the cache once and prints its
# path: $CACHE_ROOT/lowkey-vault/<version>/lowkey-vault-app.jar. The app jar is published on
# GitHub Packages only, so it is built from source with Maven (Maven Central dependencies).
#   LOWKEY_VAULT_JAR  a jar you already have: copied into the cache under its own version
#   LOWKEY_VAULT_SRC  a source folder with build.sh and VERSION (default: ../shared/lowkey-vault
#                     beside the repository, when it exists)
# Exits 2, with one line saying how to provide the jar, when neither source exists.
source "$(dirname "$0")/lib.sh"

# The version a built jar carries in its application.properties (build.sh checks it is set).
jar_version() {
  local jar="$1" tool
  tool="$(dirname "$(find_java25)")/jar"
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$jar" BOOT-INF/classes/application.properties 2>/dev/null
  elif [[ -x "$tool" ]]; then
    (cd "$(mktemp -d)" && "$tool" xf "$jar" BOOT-INF/classes/application.properties && cat BOOT-INF/classes/application.properties)
  fi | sed -n 's/^application\.version=\(.*\)$/\1/p' | tr -d '[:space:]'
}

# Serialises concurrent runs (parallel test runs on a fresh machine) on one cache entry.
locked() {
  local dir="$1"; shift
  mkdir -p "$dir"
  exec 9>"$dir.lock"
  flock 9
  "$@"
}

if [[ -n "${LOWKEY_VAULT_JAR:-}" ]]; then
  [[ -f "$LOWKEY_VAULT_JAR" ]] || die "LOWKEY_VAULT_JAR=$LOWKEY_VAULT_JAR does not exist"
  version="$(jar_version "$LOWKEY_VAULT_JAR")"
  [[ -n "$version" ]] || version="sha256-$(sha256sum "$LOWKEY_VAULT_JAR" | cut -c1-16)"
  dest="$CACHE_ROOT/lowkey-vault/$version"
  copy() { [[ -f "$dest/lowkey-vault-app.jar" ]] || { cp "$LOWKEY_VAULT_JAR" "$dest/jar.tmp" && mv "$dest/jar.tmp" "$dest/lowkey-vault-app.jar"; }; }
  locked "$dest" copy
  echo "$dest/lowkey-vault-app.jar"; exit 0
fi

src="$(lowkey_vault_src)"
if [[ -z "$src" ]]; then
  echo "no Key Vault emulator: set LOWKEY_VAULT_JAR=/path/to/lowkey-vault-app.jar, or LOWKEY_VAULT_SRC=/path/to/lowkey-vault (its sources with build.sh; default ../shared/lowkey-vault beside the repository)" >&2
  exit 2
fi
[[ -f "$src/VERSION" && -x "$src/build.sh" ]] || die "LOWKEY_VAULT_SRC=$src has no VERSION and build.sh"
version="$(tr -d '[:space:]' <"$src/VERSION")"
dest="$CACHE_ROOT/lowkey-vault/$version"
build() {
  [[ -f "$dest/lowkey-vault-app.jar" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to build the Key Vault emulator from $src (apt-get install maven); or set LOWKEY_VAULT_JAR"
  log "building Lowkey Vault $version from $src (Maven; about 30 s the first time)"
  rm -rf "$dest/out"
  [[ -n "${JAVA25_HOME:-}" && -z "${JAVA_HOME_25:-}" ]] && export JAVA_HOME_25="$JAVA25_HOME"
  "$src/build.sh" "$dest/out" >&2 || die "building Lowkey Vault from $src failed (output above)"
  mv "$dest/out/lowkey-vault-app.jar" "$dest/lowkey-vault-app.jar"
  rm -rf "$dest/out"
}
locked "$dest" build
echo "$dest/lowkey-vault-app.jar"
