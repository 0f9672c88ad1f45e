#!/usr/bin/env bash
# Build (once) and cache the pinned tools that check the Helm chart (tests/deploy):
#   helm            from its Go module (go install), a pinned v3 release
#   checkov         the policy linter, from PyPI, in its own venv (its many pins stay out of .venv)
#   kubernetes-validate  the Kubernetes JSON schemas of every release since 1.x, from PyPI, same venv
# Everything lands in $OT_CACHE_DIR/tools/ (see lib.sh: the user cache); a second run only checks the stamps
# and prints where the tools are (machine-readable lines on stdout, messages on stderr).
#
# Why these and not others: kube-linter is not served by the Go module proxy this project may use
# (its vanity path answers 403), so the policy linter is checkov, which runs the same kind of
# Kubernetes checks (CKV_K8S_*) on rendered manifests. kubeconform would need its schemas from
# GitHub; kubernetes-validate ships them inside the PyPI package.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OT_LOG_TAG=helm-tools

HELM_VERSION=v3.22.0
CHECKOV_VERSION=3.3.30
KUBERNETES_VALIDATE_VERSION=1.37.0
PYTHON="${PYTHON:-python3.11}"

TOOLS="$OT_CACHE_DIR/tools"
mkdir -p "$TOOLS/bin"

# --- helm -------------------------------------------------------------------------------------
go_tool "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" helm   # -> $TOOLS/helm-$HELM_VERSION, $TOOLS/bin/helm
"$TOOLS/bin/helm" version --short >/dev/null || die "helm at $TOOLS/bin/helm does not run"

# --- python tools (checkov, kubernetes-validate) ------------------------------------------------
pyenv="$TOOLS/pytools-checkov$CHECKOV_VERSION-kv$KUBERNETES_VALIDATE_VERSION"
if [ ! -f "$pyenv/.installed" ]; then
  log "installing checkov $CHECKOV_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $pyenv"
  rm -rf "$pyenv"
  "$PYTHON" -m venv "$pyenv"
  "$pyenv/bin/python" -m pip install -q --disable-pip-version-check \
    "checkov==$CHECKOV_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  touch "$pyenv/.installed"
fi
ln -sfn "$pyenv" "$TOOLS/pytools"
ln -sfn "$pyenv/bin/checkov" "$TOOLS/bin/checkov"

echo "HELM=$TOOLS/bin/helm"
echo "CHECKOV=$TOOLS/bin/checkov"
echo "TOOLS_PYTHON=$TOOLS/pytools/bin/python"
log "ready: helm $HELM_VERSION, checkov $CHECKOV_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
