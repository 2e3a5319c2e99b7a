#!/usr/bin/env bash
# Entrypoint of orderflow.local/kafka: one KRaft node, configured from the environment.
#   KAFKA_NODE_ID           node id (1)
#   KAFKA_ADVERTISED_HOST   host name clients are told to connect to (this container's host name)
#   KAFKA_ADVERTISED_PORT   port clients are told to connect to (KAFKA_PORT; differs when it is published elsewhere)
#   KAFKA_PORT              client listener on every address (9092)
#   KAFKA_DATA_DIR          log directory, a subdirectory of the volume: a fresh volume may hold lost+found
#   KAFKA_CLUSTER_ID        cluster id the storage is formatted with on first start (fixed, as in the local stack)
#   KAFKA_HEAP_OPTS         JVM heap flags (-Xms256m -Xmx512m); KAFKA_JVM_OPTS adds other JVM flags
#   KAFKA_CREATE_TOPICS     topics to create, or grow, once the broker answers: name:partitions[,name:partitions...]
# The controller and a loopback listener for the in-container tools stay on 127.0.0.1. SIGTERM is passed
# to the JVM, whose shutdown hook stops the broker cleanly.
set -euo pipefail

KAFKA_HOME=/opt/kafka
NODE_ID="${KAFKA_NODE_ID:-1}"
PORT="${KAFKA_PORT:-9092}"
ADVERTISED_HOST="${KAFKA_ADVERTISED_HOST:-$(hostname)}"
ADVERTISED_PORT="${KAFKA_ADVERTISED_PORT:-$PORT}"
DATA_DIR="${KAFKA_DATA_DIR:-/var/lib/kafka/data/kraft-combined-logs}"
CLUSTER_ID="${KAFKA_CLUSTER_ID:-T3JkZXJmbG93LWthZmthMQ}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
CONTROLLER_PORT=9093
LOCAL_PORT=9094
PROPS=/tmp/server.properties
LOG_OPTS=(-Dlog4j2.configurationFile="$KAFKA_HOME/config/log4j2.xml")

log() { printf '[%s] entrypoint: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# java -cp libs/* CLASS ARGS..., with a small heap: the tools, not the broker.
kafka_tool() { java -Xmx128m "${LOG_OPTS[@]}" -cp "$KAFKA_HOME/libs/*" "$@"; }

write_props() {
  cat > "$PROPS" <<PROPS
# Written by kafka-entrypoint on every start, from the environment.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$NODE_ID@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://:$PORT,LOCAL://127.0.0.1:$LOCAL_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$ADVERTISED_HOST:$ADVERTISED_PORT,LOCAL://127.0.0.1:$LOCAL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,LOCAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=LOCAL
controller.listener.names=CONTROLLER
log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
PROPS
}

# The storage keeps the cluster id it was formatted with; a volume is formatted once.
format_storage() {
  [ -f "$DATA_DIR/meta.properties" ] && return 0
  log "formatting $DATA_DIR (cluster $CLUSTER_ID, node $NODE_ID)"
  mkdir -p "$DATA_DIR"
  kafka_tool kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS" >&2
}

# Creates each topic of KAFKA_CREATE_TOPICS that is missing and adds partitions to one that has fewer,
# through the loopback listener; never fails the broker.
create_topics() {
  local bootstrap="127.0.0.1:$LOCAL_PORT" spec name want have
  until (exec 3<>"/dev/tcp/127.0.0.1/$LOCAL_PORT") 2>/dev/null; do sleep 1; done
  for spec in ${KAFKA_CREATE_TOPICS//,/ }; do
    name="${spec%%:*}" want="${spec##*:}"
    kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --if-not-exists \
      --topic "$name" --partitions "$want" --replication-factor 1 >/dev/null || { log "could not create topic $name"; continue; }
    have="$(kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --describe --topic "$name" \
      | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -1)" || have=""
    if [ -n "$have" ] && [ "$have" -lt "$want" ]; then
      if kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --alter --topic "$name" \
        --partitions "$want" >/dev/null; then
        log "topic $name: $have -> $want partitions"
      else
        log "could not grow topic $name"
      fi
    else
      log "topic $name: ${have:-?} partitions"
    fi
  done
}

write_props
format_storage

# shellcheck disable=SC2086 # the heap and JVM options are lists of flags
java $HEAP_OPTS ${KAFKA_JVM_OPTS:-} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
  -Djava.awt.headless=true "${LOG_OPTS[@]}" -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$PROPS" &
pid=$!
topics_pid=""
if [ -n "${KAFKA_CREATE_TOPICS:-}" ]; then create_topics & topics_pid=$!; fi
stopping=0
trap 'stopping=1; kill -TERM "$pid" ${topics_pid:+"$topics_pid"} 2>/dev/null || true' TERM INT
# wait returns early for each trapped signal; keep waiting until the broker itself has exited.
status=0
while :; do
  wait "$pid" && status=0 || status=$?
  kill -0 "$pid" 2>/dev/null || break
done
# The JVM exits 143 after its shutdown hooks ran for a SIGTERM: a stop that was asked for succeeded.
if [ "$stopping" = 1 ] && [ "$status" = 143 ]; then status=0; fi
exit "$status"
