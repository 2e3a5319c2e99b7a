# RabbitMQ from Debian's packages, our own node under $STACK_DIR/rabbitmq with the management plugin.
RABBITMQ_PORT="${RABBITMQ_PORT:-5672}"
RABBITMQ_MANAGEMENT_PORT="${RABBITMQ_MANAGEMENT_PORT:-15672}"
RMQ_DIR="$STACK_DIR/rabbitmq"
RMQ_USER=orderflow RMQ_PASSWORD=orderflow

rmq_env() {
  export HOME="$RMQ_DIR" RABBITMQ_NODENAME=orderflow@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBITMQ_PORT" RABBITMQ_DIST_PORT=$((RABBITMQ_PORT + 20000)) \
    RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RMQ_DIR/log" \
    RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" \
    RABBITMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid" ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP="$RMQ_DIR/erl_crash.dump" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# rabbitmqctl against our node (tests use it to close connections).
rabbitmq_ctl() { ( rmq_env; /usr/lib/rabbitmq/bin/rabbitmqctl "$@" ); }

rabbitmq_usable() {
  curl -fsS -m 3 -u "$RMQ_USER:$RMQ_PASSWORD" "http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/api/overview" >/dev/null 2>&1 \
    && port_open "$RABBITMQ_PORT"
}

rabbitmq_up() {
  if rabbitmq_usable; then log "rabbitmq already running on 127.0.0.1:$RABBITMQ_PORT, reusing"; return 0; fi
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server
  command -v curl >/dev/null || apt_install curl
  if pid_alive "$RMQ_DIR/rabbitmq.pid"; then
    wait_until 90 "rabbitmq" rabbitmq_usable && return 0
    die "our RabbitMQ node is running but not answering; see $RMQ_DIR/log"
  fi
  port_open "$RABBITMQ_PORT" && die "port $RABBITMQ_PORT is held by something that is not a usable RabbitMQ for orderflow"
  port_open "$RABBITMQ_MANAGEMENT_PORT" && die "port $RABBITMQ_MANAGEMENT_PORT is held by something else"
  mkdir -p "$RMQ_DIR/log" "$RMQ_DIR/mnesia"
  echo '[rabbitmq_management].' > "$RMQ_DIR/enabled_plugins"
  cat > "$RMQ_DIR/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBITMQ_MANAGEMENT_PORT
default_user = $RMQ_USER
default_pass = $RMQ_PASSWORD
loopback_users = none
log.file.level = warning
log.console = false
disk_free_limit.absolute = 200MB
# Queue statistics (the depth the operator reads) refresh every second instead of every five.
collect_statistics_interval = 1000
CONF
  log "starting RabbitMQ on 127.0.0.1:$RABBITMQ_PORT (management :$RABBITMQ_MANAGEMENT_PORT)"
  ( rmq_env; setsid nohup nice -n "$STACK_BROKER_NICE" /usr/lib/rabbitmq/bin/rabbitmq-server > "$RMQ_DIR/stdout.log" 2>&1 < /dev/null & echo $! > "$RMQ_DIR/launcher.pid" )
  wait_until 120 "rabbitmq" rabbitmq_usable || die "RabbitMQ did not become ready: $(tail -5 "$RMQ_DIR/stdout.log")"
  lower_session_priority "$(cat "$RMQ_DIR/launcher.pid")"
}

rabbitmq_down() {
  if pid_alive "$RMQ_DIR/rabbitmq.pid" || pid_alive "$RMQ_DIR/launcher.pid"; then
    rabbitmq_ctl shutdown >/dev/null 2>&1 || true
    stop_pidfile "$RMQ_DIR/rabbitmq.pid" rabbitmq 30
    stop_pidfile "$RMQ_DIR/launcher.pid" rabbitmq-launcher 10
  fi
  # epmd is started on demand by the Erlang VM and outlives it.
  pkill -f "epmd -address 127.0.0.1" 2>/dev/null || true
  ( rmq_env; command -v epmd >/dev/null && epmd -kill >/dev/null 2>&1 ) || true
}

rabbitmq_status() {
  local state=stopped detail="-"
  if rabbitmq_usable; then state=running; detail="amqp://$RMQ_USER:***@127.0.0.1:$RABBITMQ_PORT  http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT"
  elif port_open "$RABBITMQ_PORT"; then state=unusable; detail="port $RABBITMQ_PORT held by something else"; fi
  printf '%-10s %-9s %s\n' rabbitmq "$state" "$detail"
}
