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

# Pid of *our* Zipkin (the pid file alone could point to a recycled pid), or nothing.
running_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-jar $JAR" || return 1
  echo "$pid"
}

require_java() {
  command -v java >/dev/null 2>&1 ||
    die "java not found: Zipkin $ZIPKIN_VERSION needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless) and Maven to fetch it (apt-get install maven)."
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [ "${major:-0}" -ge 17 ] || die "Java 17+ is required by Zipkin $ZIPKIN_VERSION, found: $(java -version 2>&1 | head -n1)"
}

# Download the jar once (~130 MB). It is moved into place last, so an interrupted download is
# simply redone on the next start.
fetch_jar() {
  [ -f "$JAR" ] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: Zipkin is fetched from Maven Central with Maven (Debian: apt-get install maven)."
  local parent tmp
  parent="$(dirname "$JAR")"
  tmp="$parent.tmp.$$"
  rm -rf "$parent".tmp.*   # leftovers of an interrupted download
  mkdir -p "$tmp"
  log "downloading io.zipkin:zipkin-server:$ZIPKIN_VERSION (exec jar, ~130 MB) with Maven into $parent (first start only)..."
  if ! mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$tmp" \
      >"$tmp.mvn.log" 2>&1; then
    show_log_tail "$tmp.mvn.log"
    rm -rf "$tmp" "$tmp.mvn.log"
    die "Maven could not fetch io.zipkin:zipkin-server:$ZIPKIN_VERSION:exec (is Maven Central reachable? see output above)"
  fi
  rm -f "$tmp.mvn.log"
  [ -s "$tmp/zipkin-server-$ZIPKIN_VERSION-exec.jar" ] || { rm -rf "$tmp"; die "Maven gave no zipkin-server-$ZIPKIN_VERSION-exec.jar"; }
  mkdir -p "$parent"
  mv "$tmp/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$JAR"
  rm -rf "$tmp"
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
  require_java
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

  local start=$SECONDS next_msg=0
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$LOG_FILE"
      rm -f "$PID_FILE"
      die "Zipkin exited during startup (see log above)"
    fi
    if [ $((SECONDS - start)) -ge "$ZIPKIN_START_TIMEOUT" ]; then
      show_log_tail "$LOG_FILE"
      stop_pid "$pid"
      die "Zipkin did not answer on $URL within ${ZIPKIN_START_TIMEOUT}s"
    fi
    if [ $((SECONDS - start)) -ge "$next_msg" ]; then
      log "waiting for Zipkin on $URL... ($((SECONDS - start))s)"
      next_msg=$((next_msg + 5))
    fi
    sleep 1
  done
  log "Zipkin is up (pid $pid, $((SECONDS - start))s): $URL"
  echo "ZIPKIN_URL=$URL"
}

# SIGTERM first; SIGKILL after 15 s (it holds nothing worth waiting for: spans are in memory).
stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 15); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after 15s, sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

cmd_stop() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "stopping Zipkin (pid $pid)"
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
