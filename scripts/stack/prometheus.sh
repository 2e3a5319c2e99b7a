#!/usr/bin/env bash
# Prometheus and promtool from Debian's `prometheus` package, for the tests that lint every process's
# /metrics (promtool check metrics) and run the dashboard's queries on a real server
# (tests/support/prometheus.ts starts one per test file on loopback; the package's own service is
# never started).
#   run: scripts/stack/prometheus.sh ensure   install the package if missing, print prometheus's path
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
fi

PROMETHEUS_BIN=/usr/bin/prometheus
PROMTOOL_BIN=/usr/bin/promtool

prometheus_ensure() {
  mkdir -p "$STACK_DIR"
  apt_install prometheus
  [ -x "$PROMETHEUS_BIN" ] && [ -x "$PROMTOOL_BIN" ] || die "the prometheus package did not provide $PROMETHEUS_BIN and $PROMTOOL_BIN"
  echo "$PROMETHEUS_BIN"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    ensure) prometheus_ensure ;;
    *) die "usage: prometheus.sh ensure" ;;
  esac
fi
