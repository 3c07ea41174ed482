#!/usr/bin/env bash
# make demo: a local control plane, the operator (as the non-admin user of deploy/rbac.yaml),
# the manifests of examples/, then the `kubectl get b2b` table and the failing one's story.
# Run it again and it keeps what runs: the same control plane with its data, the same operator.
# Without a Key Vault emulator in the testenv, B2B_TEST_VAULT_URL (with NODE_EXTRA_CA_CERTS and
# AZURE_POD_IDENTITY_AUTHORITY_HOST) may name one; with neither, contoso-edi is left out.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${TESTENV_DIR:-$ROOT/.testenv}"
cd "$ROOT"
TESTENV_DIR="$DIR" hack/testenv.sh up
# shellcheck disable=SC1091
. "$DIR/env"
kubectl apply -f crds/ >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
until kubectl get b2b -A >/dev/null 2>&1; do sleep 0.2; done

# A process of the testenv: `status` shows it, `make testenv-down` stops it, a second run keeps it.
TESTENV_DIR="$DIR" hack/testenv.sh run operator "$ROOT/node_modules/.bin/node" "$ROOT/src/main.ts" \
  --kubeconfig "$B2B_OPERATOR_KUBECONFIG" \
  --metrics-bind-address=127.0.0.1:0 --health-probe-bind-address=127.0.0.1:0 \
  --keyvault-poll-interval=5s

kubectl apply -f examples/
# A Private certificate whose key stays in a TLS Secret (as cert-manager would make it): the
# key is generated here, never committed; the operator proves it signs and decrypts.
if ! kubectl -n b2b get secret contoso-as2-tls >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=as2.contoso.example/O=Contoso" \
    -addext "keyUsage=digitalSignature,keyEncipherment,dataEncipherment" \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
  kubectl -n b2b create secret tls contoso-as2-tls --cert "$tmp/tls.crt" --key "$tmp/tls.key" >/dev/null
  rm -rf "$tmp"
fi
kubectl apply -f - <<'YAML'
apiVersion: integration.b2b.dev/v1alpha1
kind: Certificate
metadata: { name: contoso-as2, namespace: b2b }
spec:
  integrationAccount: { name: contoso }
  type: Private
  certificate:
    secretRef: { name: contoso-as2-tls }
  key: { vault: in-cluster, name: contoso-as2-tls }
YAML
ready=(fabrikam-as2 northwind-edi woodgrove-x12 contoso-as2)
if [[ -n "${B2B_TEST_VAULT_URL:-}" ]]; then
  # A Private certificate whose key is in Azure Key Vault (here the emulator of `make testenv`),
  # reached with managed identity: imported once, then verified by signing and decrypting with it.
  if ! kubectl -n b2b get certificates.integration.b2b.dev contoso-edi >/dev/null 2>&1; then
    tmp="$(mktemp -d)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=edi.contoso.example/O=Contoso" \
      -addext "keyUsage=digitalSignature,keyEncipherment,dataEncipherment" \
      -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
    "$ROOT/node_modules/.bin/node" scripts/import-vault-key.ts "$tmp/key.pem" contoso-edi >/dev/null
    kubectl -n b2b create configmap contoso-edi-cert --from-file=tls.crt="$tmp/cert.pem" >/dev/null
    rm -rf "$tmp"
  fi
  kubectl apply -f - <<YAML
apiVersion: integration.b2b.dev/v1alpha1
kind: IntegrationAccount
metadata: { name: contoso-kv, namespace: b2b }
spec:
  sku: Standard
  keyVaults:
    - name: main
      azure:
        vaultUrl: $B2B_TEST_VAULT_URL
        auth: { managedIdentity: {} }
---
apiVersion: integration.b2b.dev/v1alpha1
kind: Certificate
metadata: { name: contoso-edi, namespace: b2b }
spec:
  integrationAccount: { name: contoso-kv }
  type: Private
  certificate:
    configMapRef: { name: contoso-edi-cert, key: tls.crt }
  key: { vault: main, name: contoso-edi }
---
# A Key Vault certificate (its key managed by Key Vault) that Key Vault renews by itself.
apiVersion: integration.b2b.dev/v1alpha1
kind: Certificate
metadata: { name: contoso-renewing, namespace: b2b }
spec:
  integrationAccount: { name: contoso-kv }
  type: Private
  certificate:
    keyVault: { vault: main, name: contoso-renewing, version: "" }
YAML
  "$ROOT/node_modules/.bin/node" scripts/demo-keyvault-certificate.ts create contoso-renewing >/dev/null
  ready+=(contoso-edi contoso-renewing)
else
  echo "no Key Vault emulator (see \`make testenv\`): contoso-edi, the certificate with its key in Key Vault, is left out" >&2
fi
kubectl -n b2b wait --for=condition=Ready --timeout=60s "${ready[@]/#/certificates.integration.b2b.dev/}" >/dev/null
kubectl -n b2b wait --for=condition=Stalled --timeout=60s certificates.integration.b2b.dev/contoso-signing >/dev/null
echo
kubectl get b2b -A
echo
echo "contoso-as2's key, verified by using it: $(kubectl -n b2b get certificates.integration.b2b.dev contoso-as2 \
  -o jsonpath='{.status.conditions[?(@.type=="KeyVaultAccessGranted")].message}')"
[[ -z "${B2B_TEST_VAULT_URL:-}" ]] || echo "contoso-edi's key in Key Vault ($B2B_TEST_VAULT_URL): $(kubectl -n b2b get certificates.integration.b2b.dev contoso-edi \
  -o jsonpath='{.status.conditions[?(@.type=="KeyVaultAccessGranted")].message}')"
if [[ -n "${B2B_TEST_VAULT_URL:-}" ]]; then
  # Months pass in the emulator (its time-shift API): Key Vault's AutoRenew makes a new
  # certificate version with a new key version; the operator checks it and syncs it.
  echo
  was="$(kubectl -n b2b get certificates.integration.b2b.dev contoso-renewing -o jsonpath='{.status.keyVaultCertificate.version}')"
  echo "contoso-renewing: Key Vault certificate version $was in the store; moving the vault's clock 5 days on (AutoRenew falls due)"
  now="$("$ROOT/node_modules/.bin/node" scripts/demo-keyvault-certificate.ts renew contoso-renewing)"
  kubectl -n b2b wait --for=jsonpath='{.status.keyVaultCertificate.version}'="$now" --timeout=60s \
    certificates.integration.b2b.dev/contoso-renewing >/dev/null
  renewed=""
  for _ in $(seq 60); do # the event is recorded just after the status
    renewed="$(kubectl -n b2b get events --field-selector involvedObject.name=contoso-renewing,reason=Renewed \
      -o jsonpath='{.items[-1:].message}')"
    [[ "$renewed" == *"$now"* ]] && break
    sleep 0.5
  done
  echo "contoso-renewing renewed: ${renewed:-version $now synced (no Renewed event seen yet)}"
fi
echo
echo "Why contoso-signing is not Ready:"
kubectl -n b2b get certificates.integration.b2b.dev contoso-signing \
  -o jsonpath='{range .status.conditions[*]}  {.type}={.status} {.reason}: {.message}{"\n"}{end}'
echo
echo "The store: $(kubectl -n b2b get secrets -l integration.b2b.dev/certificate -o name | tr '\n' ' ')"
echo
# The operator binds 127.0.0.1:0: its start-up log line says which port it got.
metrics_port="$(grep -o '"metricsPort":[0-9]*' "$DIR/operator.log" | tail -n 1 | cut -d: -f2)"
echo "Metrics: http://127.0.0.1:${metrics_port:-?}/metrics"
echo "Try it:  . $DIR/env && kubectl get b2b -A"
echo "         kubectl -n b2b describe b2bcert contoso-signing   (b2bcert: a bare \`certificate\` may be cert-manager's)"
echo "Stop it: make testenv-down   (stops the operator and the control plane)"
