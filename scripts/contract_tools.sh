#!/usr/bin/env bash
# Build (once) and cache the pinned tool that checks the gRPC and event contracts (tests/contracts):
#   buf   from its Go module (go install), a pinned release: `buf lint` and `buf breaking`
# It lands in $OT_CACHE_DIR/tools/ (see lib.sh: the user cache, never the clone), like helm in
# helm_tools.sh; a second run only finds the binary and prints where it is (a machine-readable line on
# stdout, messages on stderr).
#
#   bash scripts/contract_tools.sh          # build if missing, print BUF=<path>
#   bash scripts/contract_tools.sh check    # also run buf lint and buf breaking on proto/ (make test, CI)
#   bash scripts/contract_tools.sh release  # after check passes: make proto/released.binpb the current
#                                           # protos (a deliberate step of a release: docs/contracts.md)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OT_LOG_TAG=contract-tools

BUF_VERSION=v1.75.0

TOOLS="$OT_CACHE_DIR/tools"
mkdir -p "$TOOLS/bin"

go_tool "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION" buf   # -> $TOOLS/buf-$BUF_VERSION, $TOOLS/bin/buf
"$TOOLS/bin/buf" --version >/dev/null || die "buf at $TOOLS/bin/buf does not run"
echo "BUF=$TOOLS/bin/buf"

RELEASED=proto/released.binpb

check() {
  cd "$OT_REPO_DIR"
  # buf.yaml (repository root) says which rules and why; the released contract is the committed
  # image proto/released.binpb (docs/contracts.md: what "released" means and how to release).
  log "buf lint"
  "$TOOLS/bin/buf" lint
  [ -f "$RELEASED" ] || die "$RELEASED is missing: it is the released contract (docs/contracts.md)"
  log "buf breaking against $RELEASED (the last released protos)"
  "$TOOLS/bin/buf" breaking --against "$RELEASED"
  log "the protos pass lint and keep every released contract"
}

case "${1:-}" in
  "") ;;
  check) check ;;
  release)
    check
    # Without source info: comments are not part of the contract, so a comment edit changes nothing
    # here, and the same protos always give the same bytes.
    "$TOOLS/bin/buf" build --exclude-source-info -o "$RELEASED"
    log "wrote $RELEASED: commit it with the release"
    ;;
  *) usage_exit "[check|release]" ;;
esac
