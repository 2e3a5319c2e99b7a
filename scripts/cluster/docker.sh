#!/usr/bin/env bash
# Docker's engine for the cluster scripts: Debian's docker.io, started here when nothing runs it.
#   run:    scripts/cluster/docker.sh up|down|status
#   source: docker_up, docker_down, docker_usable
# Uses a running engine as it is (a laptop's Docker Desktop, a CI runner's daemon). Only when it has
# to start dockerd itself does it apply this machine's workaround (see runc_wrapper_needed).
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=../stack/common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../stack/common.sh"
fi

DOCKER_HOME="$CACHE_DIR/docker"
DOCKER_PIDFILE="$DOCKER_HOME/dockerd.pid"
DOCKER_LOG="$DOCKER_HOME/dockerd.log"
# Debian's client: the engine is 20.10 and BuildKit's --secret needs a client that drives it directly
# (a newer client on PATH wants the buildx plugin instead). On a fresh machine it arrives with
# docker.io, so docker_up looks again after installing it, unless DOCKER was given.
docker_client() { command -v /usr/bin/docker || command -v docker || echo docker; }
DOCKER_GIVEN="${DOCKER:-}"
DOCKER="${DOCKER:-$(docker_client)}"

docker_usable() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# A privileged container asks runc for every capability. Where root's bounding set lacks
# CAP_SYS_RESOURCE (bit 24; some VMs drop it), runc fails with "unable to apply caps: operation not
# permitted", and kind's node is a privileged container. The wrapper strips what the bounding set
# lacks from each container's spec, then hands over to the real runc.
runc_wrapper_needed() {
  local bnd; bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
  [ $(( (16#$bnd >> 24) & 1 )) -eq 0 ]
}

install_runc_wrapper() {
  local real; real="$(command -v runc)" || die "runc not found"
  mkdir -p "$DOCKER_HOME"
  sed "s#@REAL_RUNC@#$real#" "$ROOT_DIR/scripts/cluster/runc-wrapper.sh" > "$DOCKER_HOME/runc-wrapper.tmp"
  chmod 755 "$DOCKER_HOME/runc-wrapper.tmp"
  mv "$DOCKER_HOME/runc-wrapper.tmp" "$DOCKER_HOME/runc-wrapper"
}

docker_up() {
  if docker_usable; then return 0; fi
  apt_install docker.io jq
  [ -n "$DOCKER_GIVEN" ] || DOCKER="$(docker_client)"
  mkdir -p "$DOCKER_HOME"
  local args=(--host "unix:///var/run/docker.sock" --pidfile "$DOCKER_PIDFILE")
  if runc_wrapper_needed; then
    log "this machine's root lacks CAP_SYS_RESOURCE: dockerd runs containers through a runc wrapper"
    install_runc_wrapper
    args+=(--add-runtime "orderflow-runc=$DOCKER_HOME/runc-wrapper" --default-runtime orderflow-runc)
  fi
  log "starting dockerd (log: $DOCKER_LOG)"
  setsid dockerd "${args[@]}" >"$DOCKER_LOG" 2>&1 < /dev/null &
  wait_until 60 "dockerd" docker_usable || die "dockerd did not start: $(tail -5 "$DOCKER_LOG")"
}

docker_down() {
  # Only an engine this script started is stopped; kind's node containers stop with it.
  [ -f "$DOCKER_PIDFILE" ] || return 0
  stop_pidfile "$DOCKER_PIDFILE" dockerd 30
}

docker_status() {
  if docker_usable; then printf '%-10s %-9s %s\n' docker running "engine $("$DOCKER" version --format '{{.Server.Version}}')"
  else printf '%-10s %-9s\n' docker stopped; fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    up) docker_up; docker_status ;;
    down) docker_down ;;
    status) docker_status ;;
    *) die "usage: docker.sh up|down|status" ;;
  esac
fi
