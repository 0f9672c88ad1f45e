#!/usr/bin/env bash
# Build (once) and cache the pinned load generator of the benchmarks (bench/platform_bench.py):
#   ghz   from its Go module (go install), a pinned release: gRPC load at a fixed concurrency,
#         latency percentiles from every call
# It lands in $OT_CACHE_DIR/tools/ (see lib.sh: the user cache, never the clone), like helm in
# helm_tools.sh; a second run only finds the binary and prints where it is (a machine-readable line
# on stdout, messages on stderr).
#
# Why ghz and not a Python driver: on this 2-core machine the load generator shares the cores with
# the server it measures. A grpc.aio driver spends about as much CPU per call as a no-op grpcio
# server, so it would cap the baseline and flatter every ratio; ghz (Go) costs a fraction of that.
#
#   bash scripts/bench_tools.sh     # build if missing, print GHZ=<path>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OT_LOG_TAG=bench-tools

GHZ_VERSION=v0.120.0

TOOLS="$OT_CACHE_DIR/tools"
mkdir -p "$TOOLS/bin"

go_tool "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" ghz   # -> $TOOLS/ghz-$GHZ_VERSION, $TOOLS/bin/ghz
"$TOOLS/bin/ghz" --version >/dev/null || die "ghz at $TOOLS/bin/ghz does not run"
echo "GHZ=$TOOLS/bin/ghz"
