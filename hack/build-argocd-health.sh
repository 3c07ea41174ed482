#!/usr/bin/env bash
# Builds hack/argocd-health (Argo CD health.lua tests on gopher-lua) into the cache, only when missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/go-tools.sh"
go_build_cached argocd-health
