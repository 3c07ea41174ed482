#!/usr/bin/env bash
# Fetches the Lowkey Vault (Azure Key Vault emulator) jar from Maven Central into the cache,
# only when missing, and prints its path. LOWKEY_VAULT_JAR points at a jar you already have.
source "$(dirname "$0")/lib.sh"

if [[ -n "${LOWKEY_VAULT_JAR:-}" ]]; then
  [[ -f "$LOWKEY_VAULT_JAR" ]] || die "LOWKEY_VAULT_JAR=$LOWKEY_VAULT_JAR does not exist"
  echo "$LOWKEY_VAULT_JAR"; exit 0
fi
dest="$CACHE_ROOT/lowkey-vault/$LOWKEY_VERSION/lowkey-vault-app-$LOWKEY_VERSION.jar"
if [[ -f "$dest" ]]; then echo "$dest"; exit 0; fi
# A failed fetch is not retried for a day: it costs seconds on every run otherwise.
if [[ -n "$(find "$dest.unavailable" -mmin -1440 2>/dev/null)" ]]; then
  die "$(cat "$dest.unavailable") (cached; delete $dest.unavailable to retry)"
fi
command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch the Lowkey Vault jar; or set LOWKEY_VAULT_JAR"
artifact="com.github.nagyesta.lowkey-vault:lowkey-vault-app:$LOWKEY_VERSION:jar"
mkdir -p "$(dirname "$dest")"
if ! mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$(dirname "$dest")" >"$dest.log" 2>&1; then
  echo "could not fetch $artifact from Maven Central (see $dest.log); set LOWKEY_VAULT_JAR to a local copy" >"$dest.unavailable"
  die "$(cat "$dest.unavailable")"
fi
echo "$dest"
