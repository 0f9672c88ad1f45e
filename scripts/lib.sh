# shellcheck shell=bash
# Shared helpers for scripts/kafka.sh and scripts/postgres.sh (sourced, not run).
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
