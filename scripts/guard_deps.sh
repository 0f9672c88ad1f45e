#!/usr/bin/env bash
# System packages the client-identifier guard (libs/ot-guard) needs: Voikko, the
# Finnish morphological analyser (libvoikko1), its Finnish dictionary (voikko-fi),
# and the English and Swedish word lists (wamerican, wswedish) that tell English and
# Swedish lines from names.
# The Python binding `libvoikko` comes from PyPI with the rest (constraints.txt).
#   guard_deps.sh          install them with apt-get when missing (root, or CI with sudo -n)
# Idempotent: does nothing when all are there.  Caches nothing in the clone.
set -euo pipefail

# shellcheck disable=SC2034  # read by log()/die() in lib.sh
OT_LOG_TAG=guard-deps
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(libvoikko1 voikko-fi wamerican wswedish)
DICTIONARY=/usr/lib/voikko/5/mor-standard/mor.vfst
WORDS=/usr/share/dict/american-english
SWEDISH=/usr/share/dict/swedish

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    die "Guard dependencies not found and apt-get is unavailable: install ${missing[*]} (libvoikko 4.x, the voikko-fi 2.x dictionary, an English word list at $WORDS, a Swedish one at $SWEDISH) with your package manager."
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if [ "${CI:-}" = "true" ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "Guard dependencies not found. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and re-run."
    fi
  fi
  log "installing ${missing[*]} with apt-get..."
  "${sudo[@]}" apt-get update >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# Fail loudly here rather than in the first scan: the library must load and the
# dictionary must be where libvoikko looks for it.
[ -f "$DICTIONARY" ] || die "voikko-fi is installed but $DICTIONARY is missing."
[ -f "$WORDS" ] || die "wamerican is installed but $WORDS is missing."
[ -f "$SWEDISH" ] || die "wswedish is installed but $SWEDISH is missing."
compgen -G "/usr/lib/*/libvoikko.so.1" >/dev/null || compgen -G "/usr/lib/libvoikko.so.1" >/dev/null ||
  die "libvoikko1 is installed but libvoikko.so.1 is missing."
log "Voikko, its Finnish dictionary and the English and Swedish word lists are installed."
