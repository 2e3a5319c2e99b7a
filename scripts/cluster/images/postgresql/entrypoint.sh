#!/usr/bin/env bash
# Entrypoint of orderflow.local/postgresql: what charts/orderflow uses of the official image's
# docker-entrypoint.sh. On first start (no PG_VERSION in PGDATA) it creates the cluster with
# POSTGRES_USER as superuser, POSTGRES_PASSWORD required over TCP (scram-sha-256, every address), and
# POSTGRES_DB. Then it runs postgres and turns SIGTERM into a fast shutdown: postgres' own answer to
# SIGTERM is a smart shutdown, which waits for every pooled client to hang up, longer than any grace period.
set -euo pipefail

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
SOCKET_DIR=/var/run/postgresql

log() { printf '%s postgres-entrypoint: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# A new cluster in directory $1. The local socket trusts its callers: only processes inside the
# container reach it, and they hold POSTGRES_PASSWORD in their environment anyway.
init_cluster() {
  local dir="$1"
  initdb --pgdata="$dir" --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-instructions >&2
  printf "\n# Added by postgres-entrypoint.\nlisten_addresses = '*'\n" >> "$dir/postgresql.conf"
  printf '\n# Added by postgres-entrypoint.\nhost all all all scram-sha-256\n' >> "$dir/pg_hba.conf"
  [ "$POSTGRES_DB" = postgres ] && return 0
  # A server on the socket alone, so nothing can connect before the database exists.
  pg_ctl --pgdata="$dir" --options="-c listen_addresses='' -c unix_socket_directories=$SOCKET_DIR" \
    --wait --silent start >&2
  psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 --host="$SOCKET_DIR" --username="$POSTGRES_USER" \
    --dbname=postgres --set=db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  pg_ctl --pgdata="$dir" --mode=fast --wait --silent stop >&2
}

# Initialises next to PGDATA and renames it into place when it can (a new subdirectory of a volume,
# as the chart sets it), so a start killed halfway leaves no half-made cluster behind.
init_pgdata() {
  [ -n "${POSTGRES_PASSWORD:-}" ] || { log "POSTGRES_PASSWORD must be set to initialise $PGDATA"; exit 1; }
  if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
    log "$PGDATA holds files but no PG_VERSION; not initialising over them"; exit 1
  fi
  local staging; staging="$(dirname "$PGDATA")/.$(basename "$PGDATA").initdb"
  log "initialising $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  if { [ ! -e "$PGDATA" ] || rmdir "$PGDATA" 2>/dev/null; } && [ -w "$(dirname "$PGDATA")" ]; then
    rm -rf "$staging"
    init_cluster "$staging"
    mv "$staging" "$PGDATA"
  else
    init_cluster "$PGDATA"
  fi
  log "initialised $PGDATA"
}

[ $# -gt 0 ] || set -- postgres
[ "${1#-}" = "$1" ] || set -- postgres "$@"
[ "$1" = postgres ] || exec "$@"
shift

[ -s "$PGDATA/PG_VERSION" ] || init_pgdata
# A volume's fsGroup handling can widen the mode, and postgres refuses a group-writable data directory.
chmod 0700 "$PGDATA" 2>/dev/null || true

postgres "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
trap 'kill -HUP "$pid" 2>/dev/null || true' HUP
# wait returns early for each trapped signal; keep waiting until postgres itself has exited.
status=0
while :; do
  wait "$pid" && status=0 || status=$?
  kill -0 "$pid" 2>/dev/null || break
done
exit "$status"
