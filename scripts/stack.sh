#!/usr/bin/env bash
# The local stack: real PostgreSQL, RabbitMQ and Kafka on loopback. Usage: stack.sh up|down|status|check|restart SERVICE|rabbitmqctl ARGS
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/stack/common.sh"
source "$HERE/stack/postgres.sh"
source "$HERE/stack/rabbitmq.sh"
source "$HERE/stack/kafka.sh"

status() {
  printf '%-10s %-9s %s\n' SERVICE STATE ADDRESS
  postgres_status; rabbitmq_status; kafka_status
}

cmd="${1:-status}"; shift || true
mkdir -p "$STACK_DIR"
case "$cmd" in
  up) postgres_up; rabbitmq_up; kafka_up; status ;;
  down) kafka_down; rabbitmq_down; postgres_down ;;
  status) status ;;
  check) pg_usable && rabbitmq_usable && kafka_usable ;;
  rabbitmqctl) rabbitmq_ctl "$@" ;;
  restart)
    case "${1:-}" in
      postgres|rabbitmq|kafka) "${1}_down"; "${1}_up" ;;
      *) die "usage: stack.sh restart postgres|rabbitmq|kafka" ;;
    esac ;;
  *) die "usage: stack.sh up|down|status|check|restart SERVICE|rabbitmqctl ARGS" ;;
esac
