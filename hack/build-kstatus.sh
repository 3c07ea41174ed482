#!/usr/bin/env bash
# Builds hack/kstatus (Flux's kstatus as a command) into the cache, only when missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/go-tools.sh"
go_build_cached kstatus
