#!/usr/bin/env bash
# Schemathesis, the OpenAPI fuzzer of tests/integration/api-fuzz.test.ts, installed from PyPI into a
# virtual environment in the cache, one per pinned version (the repo stays free of Python files).
#   run:    scripts/stack/schemathesis.sh ensure|path
#   ensure: install if missing, print the `st` binary's path on stdout (progress goes to stderr)
#   path:   print the binary's path without installing (it may not exist yet)
# Pinned so that a fixed --seed generates the same requests on every machine: a new release changes
# what a seed generates. 4.32.5 is the newest 4.x that installs here (Python 3.11).
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"

if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
fi

ST_HOME="$CACHE_DIR/schemathesis-$SCHEMATHESIS_VERSION"
ST_BIN="$ST_HOME/bin/st"

schemathesis_path() { echo "$ST_BIN"; }

# A venv is not relocatable (its scripts name its own path), so it is built in place and only marked
# complete once `st` runs: an interrupted install is redone from scratch.
schemathesis_ensure() {
  if [ -f "$ST_HOME/.complete" ] && [ -x "$ST_BIN" ]; then schemathesis_path; return 0; fi
  command -v python3 >/dev/null || die "python3 not found: Schemathesis needs Python 3.10+"
  mkdir -p "$STACK_DIR" "$CACHE_DIR"
  rm -rf "$ST_HOME"
  log "installing schemathesis $SCHEMATHESIS_VERSION into $ST_HOME (once)"
  if ! python3 -m venv "$ST_HOME" >/dev/null 2>&1; then
    # Debian's python3 ships venv (and ensurepip) in a package of its own.
    rm -rf "$ST_HOME"
    apt_install python3-venv
    python3 -m venv "$ST_HOME" || die "python3 -m venv failed"
  fi
  local install_log="$ST_HOME/install.log"
  "$ST_HOME/bin/python" -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION" >"$install_log" 2>&1 \
    || die "pip install schemathesis==$SCHEMATHESIS_VERSION failed: $(tail -5 "$install_log")"
  "$ST_BIN" --version >/dev/null 2>&1 || die "the installed st does not run: see $install_log"
  touch "$ST_HOME/.complete"
  schemathesis_path
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    ensure) schemathesis_ensure ;;
    path) schemathesis_path ;;
    *) die "usage: schemathesis.sh ensure|path" ;;
  esac
fi
