# The front door. `make test` installs what is missing, then runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.package-lock.json
TESTENV_DIR ?= $(CURDIR)/.testenv

.PHONY: help deps tools lint typecheck unit integration test test-k8s-versions testenv testenv-down install run demo bench bench-vault bench-keyvault-polling bench-shards bench-peer chaos gen mutation

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

deps: $(NPM_STAMP) ## install npm packages and the Debian packages the tests use
	@hack/install-system-deps.sh

tools: deps ## build (once, cached) etcd, kube-apiserver, kubectl, the Key Vault emulator and the GitOps test tools
	@hack/build-etcd.sh >/dev/null
	@hack/build-k8s.sh >/dev/null
	@hack/build-kstatus.sh >/dev/null
	@hack/build-argocd-health.sh >/dev/null
	@hack/build-helm.sh >/dev/null
	@hack/build-promtool.sh >/dev/null
	@hack/build-lowkey-vault.sh >/dev/null || { rc=$$?; [[ $$rc -eq 2 && "$${CI:-}" != true ]] || exit $$rc; }

gen: deps ## regenerate src/api/generated.ts from crds/, and copy crds/ into the Helm chart
	npm run gen:types
	cp crds/*.yaml charts/b2b-certificate-operator/crds/

lint: deps ## eslint and prettier
	npm run lint

typecheck: deps ## tsc, strict
	npm run typecheck

unit: deps ## unit tests (no servers)
	npm run test:unit

integration: tools ## integration tests against a real kube-apiserver (started and stopped by the tests)
	npm run test:integration

test: lint typecheck unit integration ## everything: lint, type-check, unit and integration tests

test-k8s-versions: tools ## the CRD, kstatus, kustomize and RBAC tests on the chart's oldest Kubernetes and the newest the Go proxy serves (K8S_VERSIONS="1.35.4" for others; builds each once, slow; not part of `test`; see docs/operations.md)
	@hack/test-k8s-versions.sh

mutation: deps ## mutation testing of the pure decision code with Stryker (slow; not part of `test`; see docs/mutation.md)
	npx stryker run

testenv: tools ## start the local control plane in the background; writes .testenv/env
	@TESTENV_DIR=$(TESTENV_DIR) hack/testenv.sh up

testenv-down: ## stop the local control plane and the operator `make demo` started
	@TESTENV_DIR=$(TESTENV_DIR) hack/testenv.sh down

install: ## apply crds/ to $$KUBECONFIG's cluster
	kubectl apply -f crds/

run: deps ## run the operator in the foreground against $$KUBECONFIG
	npm run --silent start # every flag also reads B2B_<FLAG>, B2B_ALLOWED_VAULT_HOSTS included

demo: tools ## local control plane, operator, examples applied, then `kubectl get b2b`
	@TESTENV_DIR=$(TESTENV_DIR) hack/demo.sh

bench: tools ## benchmarks (see docs/benchmarks.md)
	npm run --silent bench

bench-vault: tools ## Private certificates sharing keys in the Key Vault emulator: vault requests per key version (docs/benchmarks.md)
	node_modules/.bin/node bench/vault-certificates.ts

bench-keyvault-polling: tools ## Certificates sharing Key Vault certificate sources: vault requests per certificate per hour of the renewal polling (docs/benchmarks.md)
	node_modules/.bin/node bench/keyvault-polling.ts

bench-shards: tools ## 20,000 certificates on one process, then on two shards (--watch-label-selector): time and peak RSS (docs/benchmarks.md)
	node_modules/.bin/node bench/shards.ts

bench-peer: tools ## this operator side by side with External Secrets Operator v0.16.2 (built once, cached), 1,000 objects each: time, requests, RSS, CPU (BENCH_PEER_ARGS="--count 10000 --defaults-only"; docs/benchmarks.md)
	hack/build-eso.sh >/dev/null
	node_modules/.bin/node bench/peer.ts $(BENCH_PEER_ARGS)

chaos: tools ## 1,000 certificates through operator kills, API server/etcd restarts and vault outages, then checked; prints a report (docs/reliability.md)
	node_modules/.bin/node chaos/run.ts $(CHAOS_ARGS)
