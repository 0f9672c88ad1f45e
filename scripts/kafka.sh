#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller), no Docker.
# Jars come from Maven Central via scripts/kafka/pom.xml and are cached in $OT_CACHE_DIR.
#   kafka.sh start|stop|status|bootstrap
set -euo pipefail

# shellcheck disable=SC2034  # read by log()/die() in lib.sh
OT_LOG_TAG=kafka
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned: newest 4.x on Maven Central when this was written (overridable for trying upgrades).
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
# Fixed cluster id: one throwaway local cluster per data dir, no need for a random one.
KAFKA_CLUSTER_ID="otLocalKafkaCluster001"
# Optional, for tests of transport security: KAFKA_SASL_SSL=1 makes the client listener on
# KAFKA_PORT speak SASL_SSL (TLS + SCRAM-SHA-512) and turns on ACLs (StandardAuthorizer, deny unless
# allowed). Run such a broker with its own OT_DATA_DIR and ports, never instead of the shared
# plaintext one:
#   OT_DATA_DIR=/tmp/secure KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 KAFKA_SASL_SSL=1 \
#     KAFKA_SCRAM_USERS="admin:<password> ot-intake:<password>" scripts/kafka.sh start
# KAFKA_SCRAM_USERS ("name:password", space-separated) are created when the data dir is formatted
# (its first start); the first is the super user (the broker's own login, and the one that creates
# topics and ACLs), the others may do only what ACLs allow. A CA and the broker's certificate (for
# 127.0.0.1 and localhost) are made in <data dir>/kafka/tls on the first start; `start` also prints
# KAFKA_SECURITY_PROTOCOL=SASL_SSL and KAFKA_SSL_CA_FILE=<that CA> for clients.
KAFKA_SASL_SSL="${KAFKA_SASL_SSL:-0}"
KAFKA_SCRAM_USERS="${KAFKA_SCRAM_USERS:-}"
# Extra arguments of the storage format (the SCRAM users of a SASL_SSL broker).
FORMAT_ARGS=()

KAFKA_SRC_DIR="$OT_REPO_DIR/scripts/kafka"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

setup_paths() {
  LIBS_DIR="$OT_CACHE_DIR/kafka/$KAFKA_VERSION/libs"
  KAFKA_DIR="$OT_DATA_DIR/kafka"
  LOG_DIRS="$KAFKA_DIR/data"
  PROPS="$KAFKA_DIR/server.properties"
  PID_FILE="$KAFKA_DIR/kafka.pid"
  LOG_FILE="$KAFKA_DIR/kafka.log"
}

# Pid of *our* broker (the pid file alone could point to a recycled pid), or nothing.
running_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

require_java() {
  command -v java >/dev/null 2>&1 ||
    die "java not found: Kafka $KAFKA_VERSION needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless) and Maven (apt-get install maven)."
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [ "${major:-0}" -ge 17 ] || die "Java 17+ is required by Kafka $KAFKA_VERSION, found: $(java -version 2>&1 | head -n1)"
}

# Download the broker jars once. The marker is written last, so an interrupted
# download is simply redone on the next start.
fetch_libs() {
  [ -f "$LIBS_DIR/.complete" ] && return 0
  local tmp="$LIBS_DIR.tmp.$$"
  rm -rf "$LIBS_DIR".tmp.*   # leftovers of an interrupted download
  mkdir -p "$tmp"
  if command -v mvn >/dev/null 2>&1; then
    log "downloading Kafka $KAFKA_VERSION jars with Maven into $LIBS_DIR (first start only)..."
    # Output goes to a file (mvn -q still prints ANSI noise), shown only on failure.
    if ! mvn -q -B -f "$KAFKA_SRC_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
      show_log_tail "$tmp.mvn.log"
      rm -rf "$tmp" "$tmp.mvn.log"
      die "Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (is Maven Central reachable? see output above)"
    fi
    rm -f "$tmp.mvn.log"
  else
    # No Maven: the official release archive carries the same jars in libs/ (if reachable).
    fetch_libs_from_archive "$tmp" || {
      rm -rf "$tmp"
      die "mvn not found and the Kafka release archive is not reachable: install Java 17 and Maven (Debian: apt-get install maven)."
    }
  fi
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  touch "$LIBS_DIR/.complete"
}

fetch_libs_from_archive() {
  local dest="$1" url tgz="$1/kafka.tgz" name="kafka_2.13-$KAFKA_VERSION"
  command -v curl >/dev/null 2>&1 || return 1
  for url in "https://downloads.apache.org/kafka/$KAFKA_VERSION/$name.tgz" \
             "https://archive.apache.org/dist/kafka/$KAFKA_VERSION/$name.tgz"; do
    log "mvn not found, trying $url ..."
    if curl -fsSL --connect-timeout 10 --max-time 600 -o "$tgz" "$url"; then
      tar -xzf "$tgz" -C "$dest" --strip-components=2 "$name/libs" && rm -f "$tgz" && return 0
    fi
  done
  return 1
}

# Regenerated on every start so port/dir knobs always apply.
write_props() {
  mkdir -p "$LOG_DIRS"
  cat >"$PROPS" <<EOF
# Generated by scripts/kafka.sh - edits are overwritten on start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$LOG_DIRS
num.partitions=3
auto.create.topics.enable=true
# Single node: every replication factor / ISR requirement must be 1.
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
# Fewer internal partitions than the default 50: faster (re)starts on a dev box.
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
# Tests create consumer groups constantly: do not wait 3 s before the first rebalance.
group.initial.rebalance.delay.ms=0
EOF
}

# Small heap: this is a dev/test broker sharing the box with the services.
java_args() {
  JAVA_ARGS=(java -Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$KAFKA_SRC_DIR/log4j2.properties" -cp "$LIBS_DIR/*")
}

format_storage() {
  [ -f "$LOG_DIRS/meta.properties" ] && return 0
  log "formatting KRaft storage in $LOG_DIRS"
  java_args
  "${JAVA_ARGS[@]}" kafka.tools.StorageTool format --config "$PROPS" --cluster-id "$KAFKA_CLUSTER_ID" \
    --ignore-formatted "${FORMAT_ARGS[@]}" >>"$LOG_FILE" 2>&1 || {
    show_log_tail "$LOG_FILE"
    die "kafka storage format failed"
  }
}

# A real Kafka round trip in plain bash: Metadata v4 request, expect our correlation id
# and at least one broker in the answer. Port-open alone is not enough: the socket is
# bound before the broker serves requests.
metadata_ok() {
  # shellcheck disable=SC2016  # the inner script is expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$KAFKA_PORT"' || exit 1
    # size=19 | api_key=3 (Metadata) | version=4 | correlation=42 | client_id="ot-p" | topics=null | no auto-create
    printf "\x00\x00\x00\x13\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x04ot-p\xff\xff\xff\xff\x00" >&3
    hex="$(head -c 16 <&3 | od -An -tx1 | tr -d " \n")"
    # bytes: size(4) correlation(4) throttle(4) broker_count(4)
    [ "${hex:8:8}" = "0000002a" ] && [ "${hex:24:8}" != "00000000" ] && [ ${#hex} -eq 32 ]
  ' 2>/dev/null
}

# --- the SASL_SSL variant (KAFKA_SASL_SSL=1) ----------------------------------------------------

sasl_ssl() { [ "$KAFKA_SASL_SSL" = 1 ]; }

# A CA and the broker's certificate, made once per data dir with openssl. The broker reads PEM
# directly (ssl.keystore.type=PEM): its key (PKCS#8) followed by its certificate and the CA.
make_tls() {
  TLS_DIR="$KAFKA_DIR/tls"
  [ -f "$TLS_DIR/broker.pem" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is needed for KAFKA_SASL_SSL=1 (Debian: apt-get install openssl)"
  log "making a CA and the broker's certificate in $TLS_DIR"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=ot-local-kafka-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
      -keyout broker.key -out broker.csr
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth,clientAuth" \
      "keyUsage=critical,digitalSignature" "authorityKeyIdentifier=keyid" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile broker.ext \
      -out broker.crt
    cat broker.key broker.crt ca.crt >broker.pem.tmp && mv broker.pem.tmp broker.pem
    chmod 644 ca.crt
  ) >>"$LOG_FILE" 2>&1 || { show_log_tail "$LOG_FILE"; die "making the broker's certificate failed"; }
}

# Overrides appended to server.properties (a later key wins in a Java properties file): the client
# listener becomes SASL_SSL, the broker logs in to itself as the first SCRAM user, ACLs are on.
# The controller listener stays PLAINTEXT on loopback; its principal (ANONYMOUS) must be a super
# user for the broker to register with its own controller. No client listener is plaintext.
write_sasl_ssl_props() {
  local users user name password
  read -ra users <<<"$KAFKA_SCRAM_USERS"
  [ "${#users[@]}" -gt 0 ] || die "KAFKA_SASL_SSL=1 needs KAFKA_SCRAM_USERS (\"admin:<password> ...\")"
  FORMAT_ARGS=()
  for user in "${users[@]}"; do
    case "$user" in ?*:?*) ;; *) die "KAFKA_SCRAM_USERS: an entry is not name:password" ;; esac
    FORMAT_ARGS+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
  done
  name="${users[0]%%:*}" password="${users[0]#*:}"
  cat >>"$PROPS" <<EOF
# --- KAFKA_SASL_SSL=1: overrides of the plaintext listener above.
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$name" password="$password";
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$name;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
EOF
  chmod 600 "$PROPS"
}

# Started, and its TLS listener answers a handshake that verifies against our CA (the plaintext
# Metadata probe cannot speak SASL_SSL).
sasl_ssl_ok() {
  grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null &&
    timeout 5 openssl s_client -connect "127.0.0.1:$KAFKA_PORT" -CAfile "$TLS_DIR/ca.crt" -verify_return_error \
      -verify_ip 127.0.0.1 </dev/null >/dev/null 2>&1
}

broker_answers() {
  if sasl_ssl; then sasl_ssl_ok; else metadata_ok; fi
}

# The machine-readable lines a client needs besides the address.
print_client_settings() {
  echo "KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP"
  if sasl_ssl; then
    echo "KAFKA_SECURITY_PROTOCOL=SASL_SSL"
    echo "KAFKA_SSL_CA_FILE=$KAFKA_DIR/tls/ca.crt"
  fi
}

cmd_start() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    print_client_settings
    return 0
  fi
  rm -f "$PID_FILE"
  require_java
  if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT is already in use by another process (another checkout's Kafka?). Stop it or set KAFKA_PORT/KAFKA_CONTROLLER_PORT."
  fi
  fetch_libs
  mkdir -p "$KAFKA_DIR"
  [ -f "$LOG_FILE" ] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
  write_props
  if sasl_ssl; then
    make_tls
    write_sasl_ssl_props
  fi
  format_storage

  log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (log: $LOG_FILE)"
  # setsid: detach from the caller's process group so Ctrl-C in make does not kill it half-way.
  java_args
  (cd "$KAFKA_DIR" && exec setsid "${JAVA_ARGS[@]}" kafka.Kafka "$PROPS" </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local start=$SECONDS next_msg=0
  until broker_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$LOG_FILE"
      rm -f "$PID_FILE"
      die "Kafka exited during startup (see log above)"
    fi
    if [ $((SECONDS - start)) -ge "$KAFKA_START_TIMEOUT" ]; then
      show_log_tail "$LOG_FILE"
      stop_pid "$pid"
      die "Kafka did not answer on $BOOTSTRAP within ${KAFKA_START_TIMEOUT}s"
    fi
    if [ $((SECONDS - start)) -ge "$next_msg" ]; then
      log "waiting for broker on $BOOTSTRAP... ($((SECONDS - start))s)"
      next_msg=$((next_msg + 5))
    fi
    sleep 1
  done
  log "Kafka is up (pid $pid, $((SECONDS - start))s)"
  print_client_settings
}

# SIGTERM = controlled shutdown (flushes logs, faster next start); SIGKILL after 30 s.
stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after 30s, sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

cmd_stop() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "stopping Kafka (pid $pid)"
    stop_pid "$pid"
    log "stopped"
  else
    log "not running"
    rm -f "$PID_FILE"
  fi
}

cmd_status() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "running (pid $pid) on $BOOTSTRAP"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  bootstrap) echo "$BOOTSTRAP" ;;
  *) usage_exit "start|stop|status|bootstrap" ;;
esac
