#!/usr/bin/env bash
# Builds Helm (helm.sh/helm/v3 cmd/helm) from the Go module proxy into the cache, only when missing.
# As Helm's Makefile does, the Kubernetes version `helm template` and `helm lint` assume
# (without a cluster) is set from the client-go Helm is built with; otherwise it is v1.20.0.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/go-tools.sh"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
if [[ ! -x "$CACHE_ROOT/helm/$HELM_VERSION/helm" ]]; then
  need_go
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  k8s_minor="$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$gomod")"
  [[ -n "$k8s_minor" ]] || die "could not read the client-go version of helm $HELM_VERSION"
fi
go_install_cached helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm -ldflags "\
  -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8s_minor:-} \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${k8s_minor:-}"
