# PostgreSQL from Debian's packages, our own cluster under $STACK_DIR/postgres, run as the postgres user.
POSTGRES_PORT="${POSTGRES_PORT:-5432}"

# The server runs as the postgres user, which must reach its data directory. A clone inside a
# directory that user cannot enter (under /root, mode 700, say) keeps its cluster under
# /var/lib/orderflow/<hash of the stack directory>/postgres instead; `.stack/postgres` then
# points there.
pg_locate() {
  PG_HOME="$STACK_DIR/postgres"
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$(dirname "$STACK_DIR")"; then
    PG_HOME="/var/lib/orderflow/$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-12)/postgres"
  fi
  PG_DATA="$PG_HOME/data"
  PG_RUN="$PG_HOME/run"
  PG_LOG="$PG_HOME/postgres.log"
}
pg_locate
PG_USER=orderflow PG_PASSWORD=orderflow
PG_DATABASES=(orderflow orderflow_test)

pg_bin() {
  local dir; dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$dir" ] || return 1
  echo "$dir"
}

# From / : the postgres user may not be allowed into the current directory (every path here is absolute).
pg_as_postgres() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

pg_usable() {
  PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$PG_USER" -d orderflow_test -Atqc 'select 1' 2>/dev/null | grep -q 1
}

pg_ours_running() { [ -f "$PG_DATA/postmaster.pid" ] && pg_as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

postgres_install() {
  pg_bin >/dev/null || apt_install postgresql
  id postgres >/dev/null 2>&1 || die "the postgres system user is missing (install the postgresql package)"
}

postgres_up() {
  if pg_usable; then log "postgres already running on 127.0.0.1:$POSTGRES_PORT, reusing"; return 0; fi
  postgres_install
  pg_locate
  local bin; bin="$(pg_bin)"
  if ! pg_ours_running; then
    port_open "$POSTGRES_PORT" && die "port $POSTGRES_PORT is held by something that is not a usable PostgreSQL for orderflow (set POSTGRES_PORT or stop it)"
    mkdir -p "$PG_HOME" "$PG_RUN"
    chown postgres: "$PG_HOME" "$PG_RUN" 2>/dev/null || true
    if [ "$PG_HOME" != "$STACK_DIR/postgres" ]; then
      log "the postgres user cannot enter $(dirname "$STACK_DIR"): its cluster lives in $PG_HOME"
      mkdir -p "$STACK_DIR"
      [ -e "$STACK_DIR/postgres" ] || ln -s "$PG_HOME" "$STACK_DIR/postgres"
    fi
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      log "initialising PostgreSQL cluster"
      pg_as_postgres "$bin/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >> "$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_RUN'
max_connections = 300
shared_buffers = 256MB
CONF
    fi
    log "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
    pg_as_postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $POSTGRES_PORT" -w -t 60 start >/dev/null \
      || die "PostgreSQL failed to start: $(tail -5 "$PG_LOG")"
  fi
  local sql="psql -h $PG_RUN -p $POSTGRES_PORT -U postgres -d postgres -Atq"
  if ! pg_as_postgres $sql -c "select 1 from pg_roles where rolname='$PG_USER'" | grep -q 1; then
    pg_as_postgres $sql -c "create role $PG_USER login createdb password '$PG_PASSWORD'" >/dev/null
  fi
  for db in "${PG_DATABASES[@]}"; do
    if ! pg_as_postgres $sql -c "select 1 from pg_database where datname='$db'" | grep -q 1; then
      pg_as_postgres $sql -c "create database $db owner $PG_USER" >/dev/null
    fi
  done
  wait_until 30 "postgres" pg_usable || die "PostgreSQL is running but not usable as $PG_USER"
}

postgres_down() {
  pg_ours_running || return 0
  pg_as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null && log "postgres stopped"
}

postgres_status() {
  local state=stopped detail="-"
  if pg_usable; then state=running; detail="postgresql://$PG_USER:***@127.0.0.1:$POSTGRES_PORT/orderflow"
  elif port_open "$POSTGRES_PORT"; then state=unusable; detail="port $POSTGRES_PORT held by something else"; fi
  printf '%-10s %-9s %s\n' postgres "$state" "$detail"
}
