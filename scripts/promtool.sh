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

# -> $TOOLS/promtool-$PROMETHEUS_MODULE_VERSION, $TOOLS/bin/promtool
go_tool "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" promtool -tags remove_all_sd
"$TOOLS/bin/promtool" --version >/dev/null || die "promtool at $TOOLS/bin/promtool does not run"
echo "PROMTOOL=$TOOLS/bin/promtool"
