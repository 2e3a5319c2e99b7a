#!/usr/bin/env bash
# Chromium from Debian's `chromium` package, for the web console's browser tests (tests/console), which
# drive it headless through playwright-core (no browser download: Playwright's own builds are not
# fetched here).
#   run: scripts/stack/chromium.sh ensure   install the package if missing, print the binary's path
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
fi

CHROMIUM_BIN=/usr/bin/chromium

chromium_ensure() {
  mkdir -p "$STACK_DIR"
  apt_install chromium
  [ -x "$CHROMIUM_BIN" ] || die "the chromium package did not provide $CHROMIUM_BIN"
  echo "$CHROMIUM_BIN"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    ensure) chromium_ensure ;;
    *) die "usage: chromium.sh ensure" ;;
  esac
fi
