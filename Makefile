# The OT platform's two commands: `make run` (the platform on this machine) and `make test`.
# Everything they need is installed from this repository's own files.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PROTOS := $(shell find proto -name '*.proto')
PACKAGES := libs/ot-proto libs/ot-runtime libs/ot-guard services/intake services/experts services/consent services/feedback services/portal
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
PROTO_STAMP := libs/ot-proto/src/ot/.generated

.PHONY: help install proto run logs send-due test unit contracts integration browser deploy-check bench bench-smoke infra-up infra-down clean

help:
	@echo "make run     - the platform on this machine: Kafka, Keycloak, Zipkin, the services and the portal"
	@echo "              at http://127.0.0.1:8080/ (Ctrl-C stops all)"
	@echo "make logs    - follow make run's logs (.data/logs/<component>.log), one readable line each"
	@echo "make send-due AS_OF=2027-02-01 - while make run runs: send now the follow-up mails due by then"
	@echo "make test    - unit, contract, integration (real PostgreSQL and Kafka), browser (Chromium, Keycloak)"
	@echo "              tests and the chart on a real control plane"
	@echo "make bench   - benchmarks (speed and memory beside same-run baselines; the guard), bench/results/"
	@echo "make install - build .venv with every console script (ot-intake, ot-experts, ot-consent,"
	@echo "              ot-feedback, ot-portal, ot-dev-token, ot-pii-scan)"

$(VENV)/.base: constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt grpcio-tools setuptools wheel
	touch $@

# Generated code is built, never committed (it is gitignored).
$(PROTO_STAMP): $(VENV)/.base $(PROTOS)
	rm -rf libs/ot-proto/src/ot
	mkdir -p libs/ot-proto/src
	$(PY) -m grpc_tools.protoc -Iproto --python_out=libs/ot-proto/src --pyi_out=libs/ot-proto/src \
	    --grpc_python_out=libs/ot-proto/src $(PROTOS)
	touch $@

proto: $(PROTO_STAMP)

# The guard needs Voikko and English and Swedish word lists from Debian (scripts/guard_deps.sh installs them
# when missing). gender-guesser is test-only: the held-out case notes draw first names from it.
# The portal's stylesheet (hds-core, pinned by version and hash) is fetched into the cache, not committed.
$(VENV)/.installed: $(PROTO_STAMP) constraints.txt $(PYPROJECTS) scripts/guard_deps.sh services/portal/src/ot_portal/assets.py
	bash scripts/guard_deps.sh
	$(PIP) install -q -c constraints.txt \
	    $(addprefix -e ,$(PACKAGES)) pytest hypothesis gender-guesser playwright axe-playwright-python
	$(PY) services/portal/src/ot_portal/assets.py
	touch $@

# The guard's data (its name lexicon, place names, confusables and word lists as digests) is built
# from the installed packages and Debian's word lists, never committed; rebuilt when its sources change.
GUARD_DATA := libs/ot-guard/src/ot_guard/guard_data.bin
$(GUARD_DATA): $(VENV)/.installed $(wildcard libs/ot-guard/src/ot_guard/*.py)
	$(PY) libs/ot-guard/src/ot_guard/data.py

install: $(VENV)/.installed $(GUARD_DATA)

run: install
	$(PY) scripts/run_local.py

# Follow the logs `make run` writes (scripts/logs.sh intake feedback: only those).
logs:
	bash scripts/logs.sh

# A consultation's follow-up mail without waiting 60 days (ot-feedback send-due; refuses in a cluster).
send-due: install
	@test -n "$(AS_OF)" || { echo "give the date: make send-due AS_OF=2027-02-01" >&2; exit 2; }
	$(PY) scripts/run_local.py send-due --as-of "$(AS_OF)"

unit: install
	$(PY) -m pytest -q libs/ot-runtime/tests libs/ot-guard/tests $(addsuffix /tests,$(filter services/%,$(PACKAGES))) tests/policy tests/scripts

integration: install
	source scripts/test_env.sh && $(PY) -m pytest -q tests/integration

# The Helm chart: real helm lint/template per area, strict Kubernetes schemas, checkov, the config
# contract (a service started with exactly the environment the chart renders), the area's alerts
# (promtool check rules / test rules: tests/deploy/test_alerts.py), and every area installed,
# upgraded, rolled back and uninstalled on a real control plane (etcd, kube-apiserver,
# controller-manager, scheduler, kwok; built once from their Go modules: tests/deploy/test_install.py).
deploy-check: install
	bash scripts/helm_tools.sh
	bash scripts/promtool.sh
	bash scripts/control_plane.sh build
	source scripts/test_env.sh && $(PY) -m pytest -q tests/deploy

# Benchmarks: figures, not pass/fail (bench/README.md): the platform's speed and memory beside
# baselines measured in the same run (a no-op grpcio server, a raw Kafka round trip), then the
# guard's. Results go to bench/results/latest.json (not committed). Load comes from ghz, built
# once from its Go module (scripts/bench_tools.sh).
bench: install
	bash scripts/bench_tools.sh
	source scripts/test_env.sh && $(PY) bench/platform_bench.py

# A minute of every phase of the benchmark, so that it cannot rot; it asserts that it ran and what
# it wrote, never a timing.
bench-smoke: install
	bash scripts/bench_tools.sh
	source scripts/test_env.sh && $(PY) -m pytest -q tests/bench

# The portal in Debian's Chromium (Playwright), signed in through a real Keycloak (scripts/keycloak.sh;
# its first start takes a few minutes), axe-core on every page.
browser: install
	bash scripts/browser_deps.sh
	source scripts/test_env.sh && $(PY) -m pytest -q tests/browser

# The gRPC and event contracts: buf lint and buf breaking against proto/released.binpb (buf built once
# from its Go module into the user's cache), and the API and events references in docs/ are current.
contracts: install
	bash scripts/contract_tools.sh check
	$(PY) -m pytest -q tests/contracts

# Unit tests first (fast, no network), then the integration tier on the real things, then the chart.
test: unit contracts integration browser deploy-check bench-smoke

infra-up:
	bash scripts/postgres.sh start
	bash scripts/kafka.sh start

infra-down:
	-bash scripts/control_plane.sh stop
	-bash scripts/zipkin.sh stop
	-bash scripts/keycloak.sh stop
	-bash scripts/kafka.sh stop
	-bash scripts/postgres.sh stop

clean: infra-down
	rm -rf $(VENV) .data libs/ot-proto/src/ot
