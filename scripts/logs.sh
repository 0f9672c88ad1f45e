#!/usr/bin/env bash
# `make logs`: follow the logs of `make run` (scripts/run_local.py writes one file per component
# under $OT_DATA_DIR/logs, default .data/logs), each line prefixed with its component, the
# services' JSON lines shown as "time level logger: message key=value ...".
#   logs.sh                  every component
#   logs.sh intake feedback  only these (kafka keycloak zipkin mail consent experts intake feedback portal)
# It keeps following across restarts of `make run` (tail -F). Ctrl-C stops it.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOG_DIR="$OT_DATA_DIR/logs"
ALL=(kafka keycloak zipkin mail consent experts intake feedback portal)
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=("${ALL[@]}")
FILES=()
for name in "${NAMES[@]}"; do
  case " ${ALL[*]} " in *" $name "*) ;; *) die "no component '$name' (one of: ${ALL[*]})" ;; esac
  FILES+=("$LOG_DIR/$name.log")
done
[ -d "$LOG_DIR" ] || log "no $LOG_DIR yet: waiting for make run to write it"

PY="$OT_REPO_DIR/.venv/bin/python"
[ -x "$PY" ] || PY=python3

# tail -F names each file in a "==> path <==" line before its lines; the filter turns that into a
# prefix on every line. tail's own notes (a file appearing, replaced by a new run) are not shown.
tail -v -n 20 -F "${FILES[@]}" 2>/dev/null | "$PY" -u -c '
import json, sys
from datetime import datetime

SKIP = {"time", "level", "service", "tenant", "logger", "message", "exception"}
current = "?"
width = max(len(n) for n in sys.argv[1:])
for raw in sys.stdin:
    line = raw.rstrip("\n")
    if line.startswith("==> ") and line.endswith(" <=="):
        current = line[4:-4].rsplit("/", 1)[-1].removesuffix(".log")
        continue
    if not line:
        continue
    text = line
    if line.startswith("{"):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and "message" in entry:
            try:
                when = datetime.fromisoformat(entry.get("time", "")).strftime("%H:%M:%S.%f")[:-3]
            except ValueError:
                when = entry.get("time", "")
            extra = " ".join(f"{k}={v}" for k, v in entry.items() if k not in SKIP)
            level, logger, message = entry.get("level", ""), entry.get("logger", ""), entry["message"]
            text = f"{when} {level:<7} {logger}: {message}"
            text += f"  {extra}" if extra else ""
            if entry.get("exception"):
                text += "\n" + "\n".join("    " + l for l in str(entry["exception"]).splitlines())
    for part in text.split("\n"):
        print(f"{current:<{width}} | {part}", flush=True)
' "${NAMES[@]}"
