#!/usr/bin/env bash
# The browser the portal's browser tests drive (tests/browser): Debian's Chromium, run headless by
# Playwright for Python from /usr/bin/chromium (Playwright's own browser download is not used).
#   browser_deps.sh          install it with apt-get when missing (root, or CI with sudo -n)
# Idempotent: does nothing when it is there. Caches nothing in the clone.
set -euo pipefail

# shellcheck disable=SC2034  # read by log()/die() in lib.sh
OT_LOG_TAG=browser-deps
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(chromium)
BROWSER=/usr/bin/chromium

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    die "Chromium not found and apt-get is unavailable: install Chromium so that $BROWSER runs it (the browser tests drive it headless)."
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if [ "${CI:-}" = "true" ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "Chromium not found. Install it (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and re-run."
    fi
  fi
  log "installing ${missing[*]} with apt-get..."
  "${sudo[@]}" apt-get update >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# Fail loudly here rather than in the first test: the binary must be where the tests look and run.
[ -x "$BROWSER" ] || die "chromium is installed but $BROWSER is missing."
version="$("$BROWSER" --version 2>/dev/null | grep -o 'Chromium [0-9.]*' || true)"
[ -n "$version" ] || die "$BROWSER does not run (try: $BROWSER --headless --no-sandbox --version)."
log "$version is installed at $BROWSER."
