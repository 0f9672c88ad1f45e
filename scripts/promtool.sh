#!/usr/bin/env bash
# Build (once) and cache the pinned tool that checks the chart's Prometheus rules (tests/deploy/test_alerts.py):
#   promtool  from the Go module of Prometheus (go install), a pinned release: `promtool check rules`
#             and `promtool test rules` (the alerts' unit tests in tests/deploy/alerts/)
# It lands in $OT_CACHE_DIR/tools/ (see lib.sh: the user cache, never the clone), like helm in
# helm_tools.sh; a second run only finds the binary and prints where it is (a machine-readable line on
# stdout, messages on stderr).
#
#   bash scripts/promtool.sh     # build if missing, print PROMTOOL=<path>
#
# The Go module's v0.X.Y is Prometheus 3.X.Y. Built with Prometheus' own build tag remove_all_sd: it
# leaves out the cloud service discoveries (AWS, Azure, GCE, ...), which rule checks never use and
# which are most of the build; the rule engine and PromQL are the same code as in the server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OT_LOG_TAG=promtool

PROMETHEUS_MODULE_VERSION=v0.316.0

TOOLS="$OT_CACHE_DIR/tools"
mkdir -p "$TOOLS/bin"

dir="$TOOLS/promtool-$PROMETHEUS_MODULE_VERSION"
if [ ! -x "$dir/promtool" ]; then
  command -v go >/dev/null || die "Go is needed to build promtool (go install github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION)"
  log "building promtool $PROMETHEUS_MODULE_VERSION from its Go module (first time only, several minutes on 2 cores)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  # -p 2: the machine has two cores; -trimpath keeps the binary independent of this path.
  GOBIN="$dir.tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install -p 2 -trimpath -tags remove_all_sd \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
ln -sfn "$dir/promtool" "$TOOLS/bin/promtool"
"$TOOLS/bin/promtool" --version >/dev/null || die "promtool at $TOOLS/bin/promtool does not run"
echo "PROMTOOL=$TOOLS/bin/promtool"
