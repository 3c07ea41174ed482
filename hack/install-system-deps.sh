#!/usr/bin/env bash
# Installs the Debian packages the tests and scripts use, when missing (root only).
set -euo pipefail
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
{ command -v setsid && command -v flock; } >/dev/null 2>&1 || missing+=(util-linux)
command -v column >/dev/null 2>&1 || missing+=(bsdextrautils)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
# Maven builds the Key Vault emulator from its sources (hack/build-lowkey-vault.sh); JDK 25 is
# not a Debian 12 package: that script says so when it is missing.
source "$(dirname "$0")/lib.sh"
if [[ -z "${LOWKEY_VAULT_JAR:-}" && -n "$(lowkey_vault_src)" ]]; then
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
fi
(( ${#missing[@]} == 0 )) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "error: missing Debian packages: ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
