#!/usr/bin/env bash
# Helm, built once from its Go module into the cache (no prebuilt download can be reached here).
#   run:    scripts/stack/helm.sh ensure|path
#   ensure: build if missing, print the binary's path on stdout (progress goes to stderr)
#   path:   print the binary's path without building (it may not exist yet)
# v3.22.0 is the newest Helm 3 that resolves and builds on Go 1.26 (about 7 minutes on 2 busy cores).
# Helm 3 rather than 4: it is what most clusters' tooling (skaffold, CI images) still runs, and the
# chart tests only lint and template.
HELM_VERSION="${HELM_VERSION:-v3.22.0}"

if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
fi

HELM_HOME="$CACHE_DIR/helm-$HELM_VERSION"
HELM_BIN="$HELM_HOME/helm"
# A full helm build takes minutes on a small machine: print a heartbeat so it does not look hung.
HELM_BUILD_POLL="${HELM_BUILD_POLL:-30}"

helm_path() { echo "$HELM_BIN"; }

helm_ensure() {
  if [ -f "$HELM_HOME/.complete" ] && [ -x "$HELM_BIN" ]; then helm_path; return 0; fi
  command -v go >/dev/null || die "go not found: helm is built from its Go module (install Go 1.26+)"
  mkdir -p "$HELM_HOME"
  local build_log="$HELM_HOME/build.log" tmp="$HELM_HOME/bin.tmp"
  rm -rf "$tmp"; mkdir -p "$tmp"
  log "building helm $HELM_VERSION from its Go module into $HELM_HOME (once; a few minutes)"
  local started=$SECONDS
  # -p 2: the machine is shared; CGO off gives a static binary like helm's own releases.
  # GOFLAGS=-mod=mod: `go install pkg@version` ignores a workspace or vendor dir the caller may have.
  (
    cd "$HELM_HOME" && GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off \
      exec go install -p 2 -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  ) >"$build_log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$HELM_BUILD_POLL" &
    wait $! 2>/dev/null || true
    kill -0 "$pid" 2>/dev/null && log "still building helm ($((SECONDS - started))s)"
  done
  wait "$pid" || die "building helm $HELM_VERSION failed: $(tail -5 "$build_log")"
  [ -x "$tmp/helm" ] || die "go install finished but $tmp/helm is missing"
  mv "$tmp/helm" "$HELM_BIN"; rm -rf "$tmp"
  "$HELM_BIN" version --short >/dev/null 2>&1 || die "the built helm does not run: see $build_log"
  touch "$HELM_HOME/.complete"
  log "helm $HELM_VERSION built in $((SECONDS - started))s"
  helm_path
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    ensure) helm_ensure ;;
    path) helm_path ;;
    *) die "usage: helm.sh ensure|path" ;;
  esac
fi
