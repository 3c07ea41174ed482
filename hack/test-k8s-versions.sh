#!/usr/bin/env bash
# Runs the CRD, kstatus, kustomize and RBAC integration tests against several Kubernetes
# releases: by default the oldest the chart claims (Chart.yaml kubeVersion) and the newest the
# Go module proxy serves; K8S_VERSIONS="1.35.4 1.36.3" picks others. Each kube-apiserver and
# kubectl is built once into the cache (hack/build-k8s.sh, niced: a cold build is 10-15 minutes
# of CPU), one version at a time. Prints one result line per version; exit 1 if any failed.
source "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FILES=(
  test/integration/crd-validation.test.ts
  test/integration/crds-apply.test.ts
  test/integration/kstatus.test.ts
  test/integration/gitops-kstatus.test.ts
  test/integration/deploy-kustomize.test.ts
  test/integration/rbac-matrix.test.ts
)

oldest_claimed() {
  sed -n 's/^kubeVersion: *">=\([0-9]*\.[0-9]*\.[0-9]*\).*"$/\1/p' "$ROOT/charts/b2b-certificate-operator/Chart.yaml"
}
newest_served() {
  need_go
  (cd "$(mktemp -d)" && go list -m -versions k8s.io/kubernetes) | tr ' ' '\n' \
    | sed -n 's/^v\(1\.[0-9]*\.[0-9]*\)$/\1/p' | sort -V | tail -n 1
}

if [[ -n "${K8S_VERSIONS:-}" ]]; then
  read -r -a versions <<<"$K8S_VERSIONS"
else
  oldest="$(oldest_claimed)"; [[ -n "$oldest" ]] || die "no kubeVersion \">=X.Y.Z...\" in Chart.yaml"
  newest="$(newest_served)"; [[ -n "$newest" ]] || die "the Go module proxy lists no k8s.io/kubernetes release"
  versions=("$oldest" "$newest")
fi

etcd="$("$ROOT/hack/build-etcd.sh")"
results=()
failed=0
for version in "${versions[@]}"; do
  log "Kubernetes $version: building (cached) kube-apiserver and kubectl"
  k8s="$(K8S_VERSION="$version" K8S_TOOLS="kube-apiserver kubectl" nice -n 19 "$ROOT/hack/build-k8s.sh")"
  # The tests pick their binaries from KUBEBUILDER_ASSETS (hack/testenv.sh), as with envtest.
  assets="$(mktemp -d)"
  ln -s "$etcd/etcd" "$k8s/kube-apiserver" "$k8s/kubectl" "$assets/"
  served="$("$k8s/kube-apiserver" --version)"
  log "Kubernetes $version: running ${#FILES[@]} test files against $served"
  out="$(mktemp)"
  if (cd "$ROOT" && KUBEBUILDER_ASSETS="$assets" node_modules/.bin/vitest run --project integration \
      "${FILES[@]}" 2>&1 | tee "$out" >&2; exit "${PIPESTATUS[0]}"); then verdict=passed; else verdict=FAILED; failed=1; fi
  tests="$(sed 's/\x1b\[[0-9;]*m//g' "$out" | sed -n 's/^ *Tests *//p' | tail -n 1)"
  results+=("$version	$served	$verdict	$tests")
  rm -rf "$assets" "$out"
done

echo "# $(date -u +%Y-%m-%d) hack/test-k8s-versions.sh (make test-k8s-versions)"
printf 'version\tkube-apiserver\tresult\ttests\n'
printf '%s\n' "${results[@]}"
exit "$failed"
