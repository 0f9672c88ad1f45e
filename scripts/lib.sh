# shellcheck shell=bash
# Shared helpers of the shell scripts in scripts/ (sourced, not run).
# Convention: human messages go to stderr, only the machine-readable result to stdout.

# <repo> is the parent of scripts/, resolved from this file so any cwd / checkout path works.
OT_REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# Absolute paths: daemons run with another cwd (and, for postgres, as another user).
# Downloads and builds (Kafka jars, helm, ...) are cached by version in the user's cache
# directory, not in the clone, so a fresh clone on the same machine reuses them.
OT_CACHE_DIR="$(realpath -m "${OT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ot-platform}")"
OT_DATA_DIR="$(realpath -m "${OT_DATA_DIR:-$OT_REPO_DIR/.data}")"

log() { printf '[%s] %s\n' "${OT_LOG_TAG:-ot}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${OT_LOG_TAG:-ot}" "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1 (bash /dev/tcp, no nc needed).
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Print the last lines of a log file, to help when a daemon does not come up.
show_log_tail() {
  local file="$1" n="${2:-40}"
  [ -f "$file" ] || return 0
  printf -- '----- last %s lines of %s -----\n' "$n" "$file" >&2
  tail -n "$n" "$file" >&2
  printf -- '----- end of %s -----\n' "$file" >&2
}

usage_exit() {
  printf 'usage: %s %s\n' "$(basename "$0")" "$1" >&2
  exit 2
}

# --- local daemons (scripts/kafka.sh, keycloak.sh, zipkin.sh) ---------------------------------
# Each runs one Java process, detached with setsid, its pid in a pid file and its output in a log
# file under $OT_DATA_DIR. postgres.sh does not use these: pg_ctl keeps, waits for and stops its own.

# daemon_pid PID_FILE MATCH: print the pid in PID_FILE when that process is alive and its command
# line contains MATCH (the pid file alone could point to a pid the system has since given to
# another program); fail otherwise.
daemon_pid() {
  local pid_file="$1" match="$2" pid
  [ -f "$pid_file" ] || return 1
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match" || return 1
  echo "$pid"
}

# stop_daemon PID PID_FILE GRACE_SECONDS: SIGTERM (the daemon's orderly shutdown), SIGKILL if it
# still runs after GRACE_SECONDS; then remove PID_FILE. A pid that is already gone is fine.
stop_daemon() {
  local pid="$1" pid_file="$2" grace="$3"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$grace"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after ${grace}s, sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

# require_java17 NAME: die unless `java` is Java 17 or newer (NAME, e.g. "Kafka 4.4.0", says who needs it).
require_java17() {
  command -v java >/dev/null 2>&1 ||
    die "java not found: $1 needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless) and Maven to fetch it (apt-get install maven)."
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [ "${major:-0}" -ge 17 ] || die "Java 17+ is required by $1, found: $(java -version 2>&1 | head -n1)"
}

# wait_until_healthy NAME ADDRESS PID PID_FILE LOG_FILE TIMEOUT GRACE CHECK [PROGRESS_EVERY]
# Return once the function CHECK succeeds (it is tried every second). Print progress every
# PROGRESS_EVERY (default 5) seconds. If PID exits first, or TIMEOUT seconds pass, show the tail of
# LOG_FILE, stop PID (stop_daemon with GRACE; this also removes PID_FILE) and die. NAME and ADDRESS
# only go into the messages.
wait_until_healthy() {
  local name="$1" address="$2" pid="$3" pid_file="$4" log_file="$5" timeout="$6" grace="$7" check="$8"
  local every="${9:-5}" start=$SECONDS next_msg=0
  until "$check"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$log_file"
      rm -f "$pid_file"
      die "$name exited during startup (see log above)"
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      show_log_tail "$log_file"
      stop_daemon "$pid" "$pid_file" "$grace"
      die "$name did not answer on $address within ${timeout}s"
    fi
    if [ $((SECONDS - start)) -ge "$next_msg" ]; then
      log "waiting for $name on $address... ($((SECONDS - start))s)"
      next_msg=$((next_msg + every))
    fi
    sleep 1
  done
}

# --- downloads and builds into the version-keyed cache ($OT_CACHE_DIR) ---------------------------

# maven_quiet LOG_FILE MVN_ARG...: run Maven in batch mode with its output (ANSI noise even with -q)
# in LOG_FILE; on failure show the tail of that output. LOG_FILE is removed either way; the exit
# status is Maven's, so the caller cleans up and dies with its own message.
maven_quiet() {
  local log_file="$1" rc=0
  shift
  mvn -q -B "$@" >"$log_file" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || show_log_tail "$log_file"
  rm -f "$log_file"
  return "$rc"
}

# maven_fetch GROUP:ARTIFACT:VERSION[:TYPE[:CLASSIFIER]] DEST_FILE [NOTE]
# Download one artifact from Maven Central (maven-dependency-plugin's copy) to DEST_FILE. It is
# fetched into a temporary directory beside DEST_FILE and moved into place last, so an interrupted
# download leaves nothing that looks complete and is simply redone. NOTE (e.g. "zip, ~165 MB")
# goes into the progress message. Dies when Maven is missing or fails.
maven_fetch() {
  local coords="$1" dest="$2" note="${3:-}" group artifact version type classifier tmp file
  IFS=: read -r group artifact version type classifier <<<"$coords"
  file="$artifact-$version${classifier:+-$classifier}.${type:-jar}"
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: $group:$artifact is fetched from Maven Central with Maven (Debian: apt-get install maven)."
  tmp="$dest.tmp.$$"
  rm -rf "$dest".tmp.*   # leftovers of an interrupted download
  mkdir -p "$tmp"
  log "downloading $coords${note:+ ($note)} with Maven into $(dirname "$dest") (first start only)..."
  maven_quiet "$tmp.mvn.log" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="$coords" -DoutputDirectory="$tmp" || {
    rm -rf "$tmp"
    die "Maven could not fetch $coords (is Maven Central reachable? see output above)"
  }
  [ -s "$tmp/$file" ] || { rm -rf "$tmp"; die "Maven gave no $file"; }
  mv "$tmp/$file" "$dest"
  rm -rf "$tmp"
}

# go_tool MODULE_PATH@VERSION BINARY [GO_INSTALL_FLAG...]
# Build a pinned Go tool once (go install from the Go module proxy) into
# $OT_CACHE_DIR/tools/BINARY-VERSION/BINARY and link it as $OT_CACHE_DIR/tools/bin/BINARY. A second
# run only finds the binary. It is built in a temporary directory that is moved into place last.
go_tool() {
  local module="$1" binary="$2" version dir bin_dir="$OT_CACHE_DIR/tools/bin"
  shift 2
  version="${module##*@}"
  dir="$OT_CACHE_DIR/tools/$binary-$version"
  mkdir -p "$bin_dir"
  if [ ! -x "$dir/$binary" ]; then
    command -v go >/dev/null || die "Go is needed to build $binary (go install $module)"
    log "building $binary $version from its Go module (first time only, minutes on 2 cores)"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    # -p 2: the machine has two cores; -trimpath keeps the binary independent of this path.
    GOBIN="$dir.tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install -p 2 -trimpath "$@" "$module"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  ln -sfn "$dir/$binary" "$bin_dir/$binary"
}
