#!/usr/bin/env bash
# Entrypoint of orderflow.local/rabbitmq. The broker's own rabbitmq-server script is run directly,
# under whatever limits the container has: Debian's ways of starting it are for init systems (the
# systemd unit sets LimitNOFILE and OOMScoreAdjust=-500, the OCF agent calls ulimit -n, the /usr/sbin
# wrapper sends the output to /var/log/rabbitmq), and raising a limit or lowering oom_score_adj fails
# without CAP_SYS_RESOURCE. The script itself turns SIGTERM into a clean stop of the Erlang VM.
set -euo pipefail

[ $# -gt 0 ] || set -- rabbitmq-server
[ "$1" = rabbitmq-server ] || exec "$@"

# Erlang refuses a cookie others can read, and a volume's fsGroup handling can widen its mode.
cookie="$HOME/.erlang.cookie"
[ ! -f "$cookie" ] || chmod 0400 "$cookie" 2>/dev/null || true

# RabbitMQ 3.10 sizes its memory alarm from the machine's RAM, not the container's limit; hand it
# the cgroup's limit (v2, else v1) so the alarm fires before the kernel's OOM killer does.
limit=""
if [ -r /sys/fs/cgroup/memory.max ]; then limit="$(cat /sys/fs/cgroup/memory.max)"
elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then limit="$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; fi
total_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
if [[ "$limit" =~ ^[0-9]+$ ]] && [ $((limit / 1024)) -lt "$total_kib" ]; then
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:-} -rabbit total_memory_available_override_value $limit"
fi

shift
exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
