#!/usr/bin/env bash
# Local Zipkin: the trace viewer of `make run` (UI and API at http://127.0.0.1:9411/), loopback
# only, spans kept in memory (a restart forgets them). No Docker: the pinned
# io.zipkin:zipkin-server exec jar comes from Maven Central and is cached by version in
# $OT_CACHE_DIR; its log is $OT_DATA_DIR/zipkin/zipkin.log.
#   zipkin.sh start        start (or reuse) it; prints ZIPKIN_URL= on stdout
#   zipkin.sh stop|status
# The services send to it with OTEL_TRACES_EXPORTER=zipkin and
# OTEL_EXPORTER_ZIPKIN_ENDPOINT=$ZIPKIN_URL/api/v2/spans.
set -euo pipefail

# shellcheck disable=SC2034  # read by log()/die() in lib.sh
OT_LOG_TAG=zipkin
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned: the newest on Maven Central when this was written; runs on Java 17 (overridable for trying upgrades).
ZIPKIN_VERSION="${ZIPKIN_VERSION:-3.6.1}"
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
# About 20 s on an idle 2-core machine; more while Kafka and the services start beside it.
ZIPKIN_START_TIMEOUT="${ZIPKIN_START_TIMEOUT:-120}"
URL="http://127.0.0.1:$ZIPKIN_PORT"

setup_paths() {
  JAR="$OT_CACHE_DIR/zipkin/$ZIPKIN_VERSION/zipkin-server-$ZIPKIN_VERSION-exec.jar"
  ZIPKIN_DIR="$OT_DATA_DIR/zipkin"
  PID_FILE="$ZIPKIN_DIR/zipkin.pid"
  LOG_FILE="$ZIPKIN_DIR/zipkin.log"
}

# Pid of *our* Zipkin, or nothing.
running_pid() { daemon_pid "$PID_FILE" "-jar $JAR"; }

# Download the jar once (~130 MB); it is moved into place last (maven_fetch).
fetch_jar() {
  [ -f "$JAR" ] && return 0
  maven_fetch "io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" "$JAR" "exec jar, ~130 MB"
}

# Zipkin answers /health with "UP" once its storage and HTTP server are ready (plain bash, no curl needed).
healthy() {
  # shellcheck disable=SC2016  # the inner script is expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$ZIPKIN_PORT"' || exit 1
    printf "GET /health HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n" "$1" >&3
    answer="$(cat <&3)"
    case "$answer" in "HTTP/1."*" 200 "*"\"UP\""*) exit 0 ;; *) exit 1 ;; esac
  ' _ "$ZIPKIN_PORT" 2>/dev/null
}

cmd_start() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    echo "ZIPKIN_URL=$URL"
    return 0
  fi
  rm -f "$PID_FILE"
  require_java17 "Zipkin $ZIPKIN_VERSION"
  if port_open "$ZIPKIN_PORT"; then
    die "port $ZIPKIN_PORT is already in use by another process (another checkout's Zipkin?). Stop it or set ZIPKIN_PORT."
  fi
  fetch_jar
  mkdir -p "$ZIPKIN_DIR"
  [ -f "$LOG_FILE" ] && mv -f "$LOG_FILE" "$LOG_FILE.prev"

  log "starting Zipkin $ZIPKIN_VERSION on $URL (log: $LOG_FILE)"
  # Loopback only (armeria.ports[0].ip); spans in memory, at most 500000 kept; the collectors of
  # other transports (Kafka, RabbitMQ, ...) stay off since none is configured; self-tracing off.
  # TieredStopAtLevel=1 (the quick JIT only) shortens the start a lot on a busy 2-core machine; a local
  # viewer needs no more. setsid: detach from the caller's process group so Ctrl-C in make does
  # not kill it half-way.
  (cd "$ZIPKIN_DIR" && STORAGE_TYPE=mem MEM_MAX_SPANS=500000 SELF_TRACING_ENABLED=false exec setsid \
    java -Xmx384m -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -jar "$JAR" \
    "--armeria.ports[0].ip=127.0.0.1" "--armeria.ports[0].port=$ZIPKIN_PORT" "--armeria.ports[0].protocols[0]=http" \
    --logging.level.root=WARN --logging.level.com.linecorp.armeria.server.Server=INFO \
    </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local start=$SECONDS
  # On a timeout it is stopped like `stop` does (SIGKILL after 15 s).
  wait_until_healthy Zipkin "$URL" "$pid" "$PID_FILE" "$LOG_FILE" "$ZIPKIN_START_TIMEOUT" 15 healthy
  log "Zipkin is up (pid $pid, $((SECONDS - start))s): $URL"
  echo "ZIPKIN_URL=$URL"
}

cmd_stop() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "stopping Zipkin (pid $pid)"
    # SIGKILL after 15 s: it holds nothing worth waiting for (spans are in memory).
    stop_daemon "$pid" "$PID_FILE" 15
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
    log "running (pid $pid) on $URL"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage_exit "start|stop|status" ;;
esac
