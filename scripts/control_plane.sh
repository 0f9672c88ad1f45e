#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, without containers, for `make deploy-check`
# (tests/deploy/test_install.py installs the chart on it):
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and kwok, which plays the kubelet
#   of one fake node: pods scheduled there are marked running and ready, Job pods complete, deleted
#   pods go away. No container runs: images are never pulled and probes never called.
#
#   control_plane.sh build    build the binaries once (cached by version in $OT_CACHE_DIR/tools) and
#                             print where they are (KUBECTL=..., CONTROL_PLANE_BIN=...)
#   control_plane.sh start    build if needed, start everything (or reuse a running one), wait until
#                             the node is Ready, print KUBECONFIG=<file> (and KUBECTL=...)
#   control_plane.sh stop     stop what start started (by pid files under the data dir)
#   control_plane.sh status   say what runs; exit 1 unless all of it does
#
# The binaries are built from Go modules, pinned by the scratch modules in scripts/control_plane/
# (their go.mod and go.sum): kubernetes/ builds k8s.io/kubernetes (its k8s.io/* staging modules
# replaced by the published modules of the same minor version) and the etcd it requires
# (go.etcd.io/etcd/server/v3); kwok/ builds sigs.k8s.io/kwok.
# The first build takes 10-20 minutes on two cores; later runs only check the cache.
# State (certificates, etcd data, logs, kubeconfig) lives in $OT_DATA_DIR/control-plane; `start`
# on a stopped control plane begins from an empty etcd. Everything listens on 127.0.0.1 only.
set -euo pipefail
# shellcheck disable=SC2034  # read by log()/die() in lib.sh
OT_LOG_TAG=control-plane
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Ports (all on 127.0.0.1); overridable to run a second control plane beside this one.
CP_ETCD_PORT="${CP_ETCD_PORT:-23790}"
CP_ETCD_PEER_PORT="${CP_ETCD_PEER_PORT:-23800}"
CP_APISERVER_PORT="${CP_APISERVER_PORT:-16443}"
CP_CONTROLLER_MANAGER_PORT="${CP_CONTROLLER_MANAGER_PORT:-10357}"
CP_SCHEDULER_PORT="${CP_SCHEDULER_PORT:-10359}"
CP_KWOK_PORT="${CP_KWOK_PORT:-10347}"
CP_START_TIMEOUT="${CP_START_TIMEOUT:-120}"
# The fake node's name (kwok manages nodes with the annotation kwok.x-k8s.io/node=fake).
CP_NODE_NAME=kwok-node-0
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1

SRC="$OT_REPO_DIR/scripts/control_plane"
TOOLS="$OT_CACHE_DIR/tools"
CP_DIR="$OT_DATA_DIR/control-plane"
PKI="$CP_DIR/pki"
LOGS="$CP_DIR/logs"
RUN="$CP_DIR/run"
KUBECONFIG_FILE="$CP_DIR/kubeconfig"
# Start order; stop goes the other way.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# The version a scratch module pins for a module: the single source of truth is its go.mod.
pinned() {
  local version
  version="$(awk -v m="$2" '$1 == m && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' "$SRC/$1/go.mod")"
  [ -n "$version" ] || die "no version of $2 in $SRC/$1/go.mod"
  echo "$version"
}

# A short hash of a scratch module's go.mod and go.sum: a changed pin (a replace, a dependency)
# is a new cache entry, not a stale binary under the same version.
modsum() { cat "$SRC/$1/go.mod" "$SRC/$1/go.sum" | sha256sum | cut -c1-10; }

setup_versions() {
  KUBE_VERSION="$(pinned kubernetes k8s.io/kubernetes)"
  ETCD_VERSION="$(pinned kubernetes go.etcd.io/etcd/server/v3)"
  KWOK_VERSION="$(pinned kwok sigs.k8s.io/kwok)"
  KUBE_BIN="$TOOLS/kubernetes-$KUBE_VERSION-$(modsum kubernetes)"
  ETCD_BIN="$TOOLS/etcd-$ETCD_VERSION-$(modsum kubernetes)"
  KWOK_BIN="$TOOLS/kwok-$KWOK_VERSION-$(modsum kwok)"
  KUBECTL="$KUBE_BIN/kubectl"
}

# go build of a scratch module's packages into $2 (a .tmp dir renamed when complete, so an
# interrupted build is redone, never half-used). -p 2: the machine has two cores.
go_build() {
  local module="$1" out="$2" ldflags="$3"
  shift 3
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  (cd "$SRC/$module" && GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=readonly" \
    go build -p 2 -trimpath -ldflags "$ldflags" -o "$out.tmp/" "$@") ||
    die "building $* failed (see above); the module is $SRC/$module"
}

build() {
  command -v go >/dev/null || die "Go is needed to build the control plane (the scratch modules in $SRC)"
  setup_versions
  local started=$SECONDS major minor
  if [ ! -x "$KUBE_BIN/kubectl" ]; then
    log "building kube-apiserver, kube-controller-manager, kube-scheduler and kubectl $KUBE_VERSION from the Go module k8s.io/kubernetes (first time only: 10-20 minutes on two cores)"
    major="${KUBE_VERSION#v}" && major="${major%%.*}"
    minor="${KUBE_VERSION#v*.}" && minor="${minor%%.*}"
    # The version is stamped in: without it the server says v0.0.0 and the chart's kubeVersion
    # (">=1.30.0-0") refuses to install.
    go_build kubernetes "$KUBE_BIN" "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
-X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor \
-X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
    rm -rf "$KUBE_BIN" && mv "$KUBE_BIN.tmp" "$KUBE_BIN"
  fi
  if [ ! -x "$ETCD_BIN/etcd" ]; then
    log "building etcd $ETCD_VERSION from the Go module go.etcd.io/etcd/server/v3"
    go_build kubernetes "$ETCD_BIN" "-s -w" go.etcd.io/etcd/server/v3
    # go names the binary of .../server/v3 after "server".
    mv "$ETCD_BIN.tmp/server" "$ETCD_BIN.tmp/etcd"
    rm -rf "$ETCD_BIN" && mv "$ETCD_BIN.tmp" "$ETCD_BIN"
  fi
  if [ ! -f "$KWOK_BIN/kwok.yaml" ]; then
    log "building kwok $KWOK_VERSION from the Go module sigs.k8s.io/kwok"
    go_build kwok "$KWOK_BIN" "-s -w" sigs.k8s.io/kwok/cmd/kwok
    write_kwok_config "$KWOK_BIN.tmp/kwok.yaml"
    rm -rf "$KWOK_BIN" && mv "$KWOK_BIN.tmp" "$KWOK_BIN"
  fi
  local v
  for v in "$KUBE_BIN/kube-apiserver" "$KUBE_BIN/kube-controller-manager" "$KUBE_BIN/kube-scheduler" \
      "$KUBECTL" "$ETCD_BIN/etcd" "$KWOK_BIN/kwok"; do
    [ -x "$v" ] || die "$v is missing after the build"
  done
  local reported
  reported="$("$KUBECTL" version --client 2>&1 || true)"
  [[ "$reported" == *"Client Version: $KUBE_VERSION"* ]] ||
    die "$KUBECTL reports \"$reported\", not $KUBE_VERSION (was it built without the version stamp?)"
  # One directory with every binary, for PATH.
  mkdir -p "$TOOLS/control-plane-bin"
  for v in "$KUBE_BIN"/* "$ETCD_BIN/etcd" "$KWOK_BIN/kwok"; do ln -sfn "$v" "$TOOLS/control-plane-bin/"; done
  [ $((SECONDS - started)) -gt 5 ] && log "built in $((SECONDS - started)) s"
  echo "CONTROL_PLANE_BIN=$TOOLS/control-plane-bin"
  echo "KUBECTL=$KUBECTL"
  echo "KUBE_VERSION=$KUBE_VERSION"
}

# kwok's configuration: its options and the stages it plays, taken from kwok's own module
# (kustomize/stage: node-initialize and the lease heartbeat for the node; pod ready, Job pods
# complete, deleted pods removed). The node lease keeps the node Ready for the node controller.
write_kwok_config() {
  local dir stage
  dir="$(cd "$SRC/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  [ -d "$dir/kustomize/stage" ] || die "kwok's stage files are not in its module ($dir/kustomize/stage)"
  {
    cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  manageAllNodes: false
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 2
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 2
  cidr: 10.0.0.0/24
EOF
    for stage in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
        pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      [ -f "$dir/kustomize/stage/$stage" ] || die "kwok stage $stage is missing in $dir"
      printf -- '---\n'
      cat "$dir/kustomize/stage/$stage"
    done
  } >"$1"
}

# --- certificates ----------------------------------------------------------------------------------

# A CA, the API server's serving certificate, an admin client certificate (group system:masters,
# used by every component here and by the tests) and the service-account signing key. Made once
# per data dir.
make_pki() {
  [ -f "$PKI/.complete" ] && return 0
  command -v openssl >/dev/null || die "openssl is needed (Debian: apt-get install openssl)"
  log "making a CA and certificates in $PKI"
  rm -rf "$PKI" && mkdir -p "$PKI"
  (
    cd "$PKI"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=ot-control-plane-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=kube-apiserver" \
      -keyout apiserver.key -out apiserver.csr
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature" >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=system:masters/CN=ot-admin" \
      -keyout admin.key -out admin.csr
    printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature" >admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile admin.ext -out admin.crt
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
    openssl pkey -in sa.key -pubout -out sa.pub
  ) >"$CP_DIR/pki.log" 2>&1 || { show_log_tail "$CP_DIR/pki.log"; die "making the certificates failed"; }
  touch "$PKI/.complete"
}

write_kubeconfig() {
  local tmp="$KUBECONFIG_FILE.tmp"
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ot-control-plane
  cluster:
    server: https://127.0.0.1:$CP_APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: ot-admin
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: ot-control-plane
  context: {cluster: ot-control-plane, user: ot-admin}
current-context: ot-control-plane
EOF
  chmod 600 "$tmp" && mv "$tmp" "$KUBECONFIG_FILE"
}

# --- processes -------------------------------------------------------------------------------------

command_of() {
  local kc="$KUBECONFIG_FILE"
  case "$1" in
    etcd) CMD=("$ETCD_BIN/etcd" --name ot-control-plane --data-dir "$CP_DIR/etcd"
        --listen-client-urls "http://127.0.0.1:$CP_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$CP_ETCD_PORT"
        --listen-peer-urls "http://127.0.0.1:$CP_ETCD_PEER_PORT"
        --initial-advertise-peer-urls "http://127.0.0.1:$CP_ETCD_PEER_PORT"
        --initial-cluster "ot-control-plane=http://127.0.0.1:$CP_ETCD_PEER_PORT"
        # A throwaway test store: no fsync, small quota.
        --unsafe-no-fsync --quota-backend-bytes 1073741824 --log-level warn) ;;
    kube-apiserver) CMD=("$KUBE_BIN/kube-apiserver" --bind-address 127.0.0.1 --advertise-address 127.0.0.1
        --secure-port "$CP_APISERVER_PORT" --etcd-servers "http://127.0.0.1:$CP_ETCD_PORT"
        --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key"
        --client-ca-file "$PKI/ca.crt" --service-cluster-ip-range "$SERVICE_CIDR"
        --service-account-issuer https://kubernetes.default.svc.cluster.local
        --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key"
        --authorization-mode Node,RBAC
        # Loopback only: the advertised 127.0.0.1 is refused by the endpoint reconciler, and no pod
        # here talks to the API server through the kubernetes Service.
        --endpoint-reconciler-type none
        # As on a real cluster: privileged pods are allowed by the API server, so only Pod
        # Security admission (the namespace's label) can refuse them.
        --allow-privileged=true
        --enable-priority-and-fairness=false --profiling=false --v=1) ;;
    kube-controller-manager) CMD=("$KUBE_BIN/kube-controller-manager" --kubeconfig "$kc"
        --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc"
        --bind-address 127.0.0.1 --secure-port "$CP_CONTROLLER_MANAGER_PORT" --leader-elect=false
        --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt"
        --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key"
        --use-service-account-credentials=false --profiling=false --v=1) ;;
    kube-scheduler) CMD=("$KUBE_BIN/kube-scheduler" --kubeconfig "$kc"
        --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc"
        --bind-address 127.0.0.1 --secure-port "$CP_SCHEDULER_PORT" --leader-elect=false --profiling=false --v=1) ;;
    kwok) CMD=("$KWOK_BIN/kwok" --config "$KWOK_BIN/kwok.yaml" --kubeconfig "$kc"
        --server-address "127.0.0.1:$CP_KWOK_PORT" --node-ip 127.0.0.1) ;;
    *) die "unknown component $1" ;;
  esac
}

# Pid of *our* component (its command line names this data dir or this build), or nothing.
running_pid() {
  local pid file="$RUN/$1.pid"
  [ -f "$file" ] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$CP_DIR"* ]] || return 1
  echo "$pid"
}

launch() {
  local name="$1"
  command_of "$name"
  mkdir -p "$LOGS" "$RUN"
  # setsid: the component outlives this script (and a Ctrl-C of the shell that started it).
  setsid "${CMD[@]}" >>"$LOGS/$name.log" 2>&1 </dev/null &
  local pid=$! n
  echo "$pid" >"$RUN/$name.pid"
  # Until the child has exec'd the component, its command line is still this script's, and
  # running_pid would take the component for gone: wait_for's first check came that early once on
  # a busy machine ("exited while starting", with an empty log, as everything was then stopped).
  for ((n = 0; n < 100; n++)); do
    running_pid "$name" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || break  # exited already: wait_for says so, with its log
    sleep 0.05
  done
}

fail_start() {
  show_log_tail "$LOGS/$1.log" 60
  stop >/dev/null 2>&1 || true
  die "$2 (log: $LOGS/$1.log; everything started was stopped)"
}

# Waits until "$@" succeeds, while component $1's process lives.
wait_for() {
  local name="$1" what="$2" deadline=$((SECONDS + CP_START_TIMEOUT))
  shift 2
  until "$@" >/dev/null 2>&1; do
    running_pid "$name" >/dev/null || fail_start "$name" "$name exited while starting"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$name" "$name: $what not reached in ${CP_START_TIMEOUT}s"
    sleep 1
  done
}

kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --request-timeout 10s "$@"; }
# (Outputs are compared whole: `curl | grep -q` fails under pipefail when grep exits first.)
etcd_healthy() { [[ "$(curl -fsS "http://127.0.0.1:$CP_ETCD_PORT/health")" == *'"health":"true"'* ]]; }
https_ok() { [ "$(curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1")" = ok ]; }
insecure_ok() { [ "$(curl -fsSk "$1")" = ok ]; }
node_ready() {
  [ "$(kc get node "$CP_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
default_sa() { kc -n default get serviceaccount default; }

fake_node() {
  kc apply -f - <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $CP_NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $CP_NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
spec: {}
EOF
}

all_running() {
  local name
  for name in "${COMPONENTS[@]}"; do running_pid "$name" >/dev/null || return 1; done
}

print_env() {
  echo "KUBECONFIG=$KUBECONFIG_FILE"
  echo "KUBECTL=$KUBECTL"
}

start() {
  setup_versions
  if all_running && https_ok "https://127.0.0.1:$CP_APISERVER_PORT/readyz" && node_ready; then
    log "already running (Kubernetes $KUBE_VERSION, node $CP_NODE_NAME)"
    print_env
    return 0
  fi
  build >/dev/null
  # Anything left of an earlier, broken start goes; a start begins from an empty etcd.
  stop >/dev/null 2>&1 || true
  rm -rf "$CP_DIR/etcd" "$LOGS" "$RUN"
  mkdir -p "$CP_DIR" "$LOGS" "$RUN"
  make_pki
  write_kubeconfig
  local port started=$SECONDS
  for port in "$CP_ETCD_PORT" "$CP_ETCD_PEER_PORT" "$CP_APISERVER_PORT" "$CP_CONTROLLER_MANAGER_PORT" \
      "$CP_SCHEDULER_PORT" "$CP_KWOK_PORT"; do
    port_open "$port" && die "port $port on 127.0.0.1 is taken by another program (set the CP_*_PORT variables)"
  done
  log "starting etcd $ETCD_VERSION on 127.0.0.1:$CP_ETCD_PORT"
  launch etcd
  wait_for etcd "health" etcd_healthy
  log "starting kube-apiserver $KUBE_VERSION on https://127.0.0.1:$CP_APISERVER_PORT"
  launch kube-apiserver
  wait_for kube-apiserver "/readyz" https_ok "https://127.0.0.1:$CP_APISERVER_PORT/readyz"
  log "starting kube-controller-manager, kube-scheduler and kwok $KWOK_VERSION"
  launch kube-controller-manager
  launch kube-scheduler
  launch kwok
  wait_for kube-controller-manager "/healthz" insecure_ok "https://127.0.0.1:$CP_CONTROLLER_MANAGER_PORT/healthz"
  wait_for kube-scheduler "/healthz" insecure_ok "https://127.0.0.1:$CP_SCHEDULER_PORT/healthz"
  wait_for kwok "/healthz" curl -fsS "http://127.0.0.1:$CP_KWOK_PORT/healthz"
  fake_node >>"$LOGS/kwok.log" 2>&1 || fail_start kwok "could not create the fake node $CP_NODE_NAME"
  wait_for kwok "node $CP_NODE_NAME Ready" node_ready
  # The service account controller has run once: pods can be admitted in new namespaces.
  wait_for kube-controller-manager "the default service account" default_sa
  log "ready in $((SECONDS - started)) s: Kubernetes $KUBE_VERSION, node $CP_NODE_NAME (kwok); logs in $LOGS"
  print_env
}

stop() {
  local i name pid n
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    name="${COMPONENTS[$i]}"
    pid="$(running_pid "$name")" || { rm -f "$RUN/$name.pid"; continue; }
    kill "$pid" 2>/dev/null || true
    for ((n = 0; n < 100; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop in 20 s: killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$name.pid"
    log "stopped $name"
  done
}

status() {
  setup_versions
  local name pid rc=0
  for name in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$name")"; then
      echo "$name: running (pid $pid)"
    else
      echo "$name: not running"
      rc=1
    fi
  done
  if [ "$rc" = 0 ]; then
    if https_ok "https://127.0.0.1:$CP_APISERVER_PORT/readyz" && node_ready; then
      echo "ready: Kubernetes $KUBE_VERSION, node $CP_NODE_NAME"
      print_env
    else
      echo "not ready (API server /readyz or node $CP_NODE_NAME Ready failing)"
      rc=1
    fi
  fi
  return "$rc"
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage_exit "build|start|stop|status" ;;
esac
