#!/usr/bin/env bash
# Local Keycloak: the areas' OpenID Connect provider on this machine (development mode, loopback
# only), with one realm per wellbeing area imported from deploy/keycloak/realms/. No Docker: the
# pinned org.keycloak:keycloak-quarkus-dist zip comes from Maven Central and is cached by version
# in $OT_CACHE_DIR; its state (an H2 database) lives in $OT_DATA_DIR/keycloak.
#   keycloak.sh start            start (or reuse) it; prints KEYCLOAK_URL= and OT_PORTAL_CLIENT_SECRET_FILE=
#   keycloak.sh stop|status
#   keycloak.sh issuer <area>    the issuer of an area's tokens (what the services' AUTH_JWT_ISSUER is)
#   keycloak.sh token <area> <user> [password]
#                                an access token of a demo user (professional, coordinator, secretary,
#                                expert, group-member, admin; password demo), e.g. for grpcurl
set -euo pipefail

# shellcheck disable=SC2034  # read by log()/die() in lib.sh
OT_LOG_TAG=keycloak
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned (overridable for trying upgrades). 26.5.6 runs on Java 17.
KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.5.6}"
# Not 8080: that is the portal's.
KEYCLOAK_PORT="${KEYCLOAK_PORT:-8180}"
# The first start builds Keycloak's server and creates its database: minutes on a busy 2-core box
# (over 5 minutes was seen with other builds running beside it).
KEYCLOAK_START_TIMEOUT="${KEYCLOAK_START_TIMEOUT:-900}"
AREAS=(etela-savo keski-suomi pohjois-karjala pohjois-savo)
REALMS_DIR="$OT_REPO_DIR/deploy/keycloak/realms"
URL="http://127.0.0.1:$KEYCLOAK_PORT"

setup_paths() {
  DIST_DIR="$OT_CACHE_DIR/keycloak/$KEYCLOAK_VERSION/keycloak-$KEYCLOAK_VERSION"
  KC_DIR="$OT_DATA_DIR/keycloak"
  KC_HOME="$KC_DIR/home"
  PID_FILE="$KC_DIR/keycloak.pid"
  LOG_FILE="$KC_DIR/keycloak.log"
  SECRET_FILE="$KC_DIR/portal-client-secret"
  ADMIN_FILE="$KC_DIR/admin-password"
  REALMS_STAMP="$KC_DIR/realms.sha256"
}

# Pid of *our* Keycloak, or nothing. kc.sh waits for its java child (and forwards SIGTERM to it),
# or becomes it (exec): either way the command line names our home.
running_pid() { daemon_pid "$PID_FILE" "$KC_HOME/bin/"; }

# Download and unpack the distribution once. The marker is written last, so an interrupted
# download is simply redone on the next start.
fetch_dist() {
  [ -f "$DIST_DIR/.complete" ] && return 0
  command -v unzip >/dev/null 2>&1 || die "unzip not found (Debian: apt-get install unzip)."
  local parent tmp zip
  parent="$(dirname "$DIST_DIR")"
  tmp="$parent.tmp.$$"
  zip="$parent.zip"
  rm -rf "$parent".tmp.*   # leftovers of an interrupted unpacking
  maven_fetch "org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" "$zip" "zip, ~165 MB"
  mkdir -p "$tmp"
  unzip -q "$zip" -d "$tmp" || { rm -rf "$tmp" "$zip"; die "unpacking the Keycloak zip failed"; }
  rm -f "$zip"
  [ -x "$tmp/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ] || { rm -rf "$tmp"; die "the Keycloak zip has no keycloak-$KEYCLOAK_VERSION/bin/kc.sh"; }
  rm -rf "$parent"
  mv "$tmp" "$parent"
  touch "$DIST_DIR/.complete"
}

# Keycloak keeps its database and reads its imports under <home>/data, and writes its build under
# <home>/lib/quarkus. So each data dir gets a home of its own: the large, read-only parts (the jars,
# themes) are links into the cached distribution, the rest is copied (a few MB).
make_home() {
  mkdir -p "$KC_HOME/bin" "$KC_HOME/lib" "$KC_HOME/data"
  cp -f "$DIST_DIR/bin/kc.sh" "$KC_HOME/bin/kc.sh"
  cp -f "$DIST_DIR/lib/quarkus-run.jar" "$KC_HOME/lib/quarkus-run.jar"
  [ -d "$KC_HOME/conf" ] || cp -r "$DIST_DIR/conf" "$KC_HOME/conf"
  [ -d "$KC_HOME/lib/quarkus" ] || cp -r "$DIST_DIR/lib/quarkus" "$KC_HOME/lib/quarkus"
  local part
  for part in lib/app lib/lib themes providers; do
    ln -sfn "$DIST_DIR/$part" "$KC_HOME/$part"
  done
}

# Once per data dir: the portal client's secret (Keycloak reads it from the environment at import)
# and the master realm's admin password (the admin console at $URL/admin/, user admin).
ensure_secret() {
  local file="$1"
  [ -s "$file" ] && return 0
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file")
}

# The realms are imported only into a fresh database (Keycloak skips realms that exist). When the
# realm files (or the secret) changed since the last import, the local database is dropped so that
# what runs is what the repository says; it holds nothing but demo users and sessions.
prepare_import() {
  local sum
  mkdir -p "$KC_HOME/data/import"
  rm -f "$KC_HOME/data/import/"*.json
  cp "$REALMS_DIR/"*.json "$KC_HOME/data/import/"
  sum="$(cat "$REALMS_DIR/"*.json "$SECRET_FILE" | sha256sum | cut -d' ' -f1) $KEYCLOAK_VERSION"
  if [ "$(cat "$REALMS_STAMP" 2>/dev/null || true)" != "$sum" ]; then
    if [ -d "$KC_HOME/data/h2" ]; then
      log "the realm files changed since the last import: dropping the local Keycloak database"
    fi
    rm -rf "$KC_HOME/data/h2"
    echo "$sum" >"$REALMS_STAMP"
  fi
}

# HTTP status of a GET on 127.0.0.1:$KEYCLOAK_PORT (plain bash, no curl needed).
http_status() {
  # shellcheck disable=SC2016  # the inner script is expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$KEYCLOAK_PORT"' || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n" "$1" "$2" >&3
    head -n1 <&3 | cut -d" " -f2
  ' _ "$1" "$KEYCLOAK_PORT" 2>/dev/null
}

# Ready when every area's realm publishes its provider metadata (the import is done).
realms_ready() {
  local area
  for area in "${AREAS[@]}"; do
    [ "$(http_status "/realms/$area/.well-known/openid-configuration")" = 200 ] || return 1
  done
}

print_client_settings() {
  echo "KEYCLOAK_URL=$URL"
  echo "OT_PORTAL_CLIENT_SECRET_FILE=$SECRET_FILE"
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
  require_java17 "Keycloak $KEYCLOAK_VERSION"
  if port_open "$KEYCLOAK_PORT"; then
    die "port $KEYCLOAK_PORT is already in use by another process (another checkout's Keycloak?). Stop it or set KEYCLOAK_PORT."
  fi
  fetch_dist
  mkdir -p "$KC_DIR"
  ensure_secret "$SECRET_FILE"
  ensure_secret "$ADMIN_FILE"
  make_home
  prepare_import
  [ -f "$LOG_FILE" ] && mv -f "$LOG_FILE" "$LOG_FILE.prev"

  log "starting Keycloak $KEYCLOAK_VERSION on $URL (log: $LOG_FILE)"
  # Development mode: HTTP, the H2 database in the home's data dir, themes not cached. Bound to
  # loopback (it listens on every interface unless told). No health/metrics endpoints, so no
  # management port is opened either. setsid: Ctrl-C in make does not kill it half-way.
  (cd "$KC_DIR" && exec setsid env OT_PORTAL_CLIENT_SECRET="$(cat "$SECRET_FILE")" \
      KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$(cat "$ADMIN_FILE")" \
      "$KC_HOME/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT" --import-realm \
      --health-enabled=false --metrics-enabled=false </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local start=$SECONDS
  # Progress every 10 s (it takes minutes); on a timeout it is stopped like `stop` does.
  wait_until_healthy Keycloak "$URL/realms/" "$pid" "$PID_FILE" "$LOG_FILE" \
    "$KEYCLOAK_START_TIMEOUT" 30 realms_ready 10
  log "Keycloak is up (pid $pid, $((SECONDS - start))s); admin console $URL/admin/ (user admin, password in $ADMIN_FILE)"
  print_client_settings
}

cmd_stop() {
  setup_paths
  local pid
  if pid="$(running_pid)"; then
    log "stopping Keycloak (pid $pid)"
    # SIGTERM = orderly shutdown; SIGKILL after 30 s.
    stop_daemon "$pid" "$PID_FILE" 30
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

check_area() {
  local area
  for area in "${AREAS[@]}"; do [ "$area" = "${1:-}" ] && return 0; done
  die "unknown area ${1:-(none)}: one of ${AREAS[*]}"
}

# The resource-owner password grant of the local-only public client ot-cli (deploy/keycloak).
cmd_token() {
  [ "$#" -ge 2 ] || usage_exit "token <area> <user> [password]"
  check_area "$1"
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to ask for a token"
  python3 - "$URL/realms/$1/protocol/openid-connect/token" "$2" "${3:-demo}" <<'EOF'
import json, sys, urllib.error, urllib.parse, urllib.request
url, user, password = sys.argv[1:4]
form = urllib.parse.urlencode({"grant_type": "password", "client_id": "ot-cli", "username": user,
                               "password": password, "scope": "openid"}).encode()
try:
    with urllib.request.urlopen(urllib.request.Request(url, data=form), timeout=30) as answer:
        print(json.load(answer)["access_token"])
except urllib.error.HTTPError as exc:
    sys.exit(f"[keycloak] ERROR: {url} refused the sign-in of {user!r}: {exc.code} {exc.read().decode(errors='replace')[:300]}")
except urllib.error.URLError as exc:
    sys.exit(f"[keycloak] ERROR: no answer from {url} ({exc.reason}): is it running? scripts/keycloak.sh start")
EOF
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  issuer) check_area "${2:-}" && echo "$URL/realms/$2" ;;
  token) shift && cmd_token "$@" ;;
  *) usage_exit "start|stop|status|issuer <area>|token <area> <user> [password]" ;;
esac
