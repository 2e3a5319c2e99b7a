# Shared helpers for the local stack scripts. Sourced, never run.
# Every service keeps its data under $STACK_DIR (ignored by git) and binds to loopback only.

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT_DIR/.stack}"
CACHE_DIR="${ORDERFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/orderflow}"

# The brokers carry only the pipeline's traffic (the API talks to PostgreSQL alone), and the pipeline
# runs below the API's CPU priority (cli/supervisor/priority.ts): so do they. 0 runs them as anything else.
STACK_BROKER_NICE="${STACK_BROKER_NICE:-10}"

log() { printf '\033[36m[stack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[stack] error:\033[0m %s\n' "$*" >&2; exit 1; }

# apt-get install that never starts the distribution's own service: we run our own instance.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root, or install them and retry)"
  log "installing ${missing[*]} (apt)"
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>"$STACK_DIR/apt.err"; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>"$STACK_DIR/apt.err" \
      || { [ $created -eq 1 ] && rm -f "$policy"; die "apt-get install ${missing[*]} failed: $(tail -3 "$STACK_DIR/apt.err")"; }
  fi
  [ $created -eq 1 ] && rm -f "$policy"
  return 0
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Poll a command until it succeeds or the timeout (seconds) passes.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
  log "$what ready"
}

# The nice value of a broker's session (every process it starts inherits the process value from
# `nice`): where the kernel shares CPU between sessions first (Linux's autogroup), the session's value
# is what ranks it against the API's. Best effort, like the supervisor's.
lower_session_priority() {
  [ "$STACK_BROKER_NICE" -gt 0 ] && [ -w "/proc/$1/autogroup" ] && echo "$STACK_BROKER_NICE" >"/proc/$1/autogroup" 2>/dev/null
  return 0
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# SIGTERM a process group leader from a pid file, SIGKILL after the timeout.
stop_pidfile() {
  local pidfile="$1" name="$2" timeout="${3:-30}"
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid; pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then log "$name did not stop in ${timeout}s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.3
  done
  rm -f "$pidfile"
  log "$name stopped"
}
