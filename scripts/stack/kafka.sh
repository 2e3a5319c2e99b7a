#!/usr/bin/env bash
# Apache Kafka from Maven Central jars: one KRaft node (broker + controller) on loopback, data under $STACK_DIR/kafka.
#   run:    scripts/stack/kafka.sh install|start|stop|status|perf-test [ProducerPerformance args...]
#   source: kafka_install, kafka_up (= kafka_start), kafka_down (= kafka_stop), kafka_status, kafka_perf_test
# kafkajs 2.2.4 (unmaintained) was checked against 3.9.x and 4.0-4.4: every API version it sends
# (Produce v7, Fetch v11, OffsetCommit v5, OffsetFetch v4, JoinGroup v5, ...) is still served.
# 3.x releases work too (set KAFKA_VERSION=3.9.1; they log through log4j.properties instead).
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"

# Standalone use: bring in the shared helpers (stack.sh has sourced them already).
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
fi

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
# Fixed, so the storage is formatted once and keeps its identity ("Orderflow-kafka1", base64url).
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-T3JkZXJmbG93LWthZmthMQ}"
KAFKA_CONF_DIR="$ROOT_DIR/scripts/stack/kafka"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_LOG="$KAFKA_DIR/kafka.log"
KAFKA_PID="$KAFKA_DIR/kafka.pid"

kafka_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; else command -v java; fi
}

kafka_major() { echo "${KAFKA_VERSION%%.*}"; }

# JVM flag shared by the broker and the tools: logging config for this Kafka generation.
kafka_jvm_log_opts() {
  if [ "$(kafka_major)" -ge 4 ]; then
    echo "-Dlog4j2.configurationFile=$KAFKA_CONF_DIR/log4j2.xml"
  else
    echo "-Dlog4j.configuration=file:$KAFKA_CONF_DIR/log4j.properties"
  fi
}

# java -cp <libs>/* <main class> args...
kafka_run_class() {
  local java; java="$(kafka_java)" || { apt_install openjdk-17-jre-headless; java="$(kafka_java)"; } \
    || die "java not found (install a JDK 17+ or set JAVA_HOME)"
  "$java" "$(kafka_jvm_log_opts)" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_install() {
  [ -f "$KAFKA_HOME/.complete" ] && return 0
  local java; java="$(kafka_java)" || { apt_install openjdk-17-jre-headless; java="$(kafka_java)"; } \
    || die "java not found (install a JDK 17+ or set JAVA_HOME)"
  local jv; jv="$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  if [ -z "$jv" ] || [ "$jv" -lt 17 ]; then die "Kafka $KAFKA_VERSION needs Java 17+, $java is Java ${jv:-?}"; fi
  command -v mvn >/dev/null || apt_install maven
  log "fetching Kafka $KAFKA_VERSION jars into $KAFKA_LIBS (maven)"
  local tmp="$KAFKA_HOME/libs.tmp" extra=()
  [ "$(kafka_major)" -ge 4 ] || extra+=(-Dkafka.log4j1)
  rm -rf "$tmp"; mkdir -p "$KAFKA_HOME"
  mvn -B -q -f "$KAFKA_CONF_DIR/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" "${extra[@]}" >"$KAFKA_HOME/mvn.log" 2>&1 \
    || die "maven could not fetch Kafka $KAFKA_VERSION: $(tail -5 "$KAFKA_HOME/mvn.log")"
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || die "kafka_2.13-$KAFKA_VERSION.jar missing after maven ran"
  rm -rf "$KAFKA_LIBS"; mv "$tmp" "$KAFKA_LIBS"
  touch "$KAFKA_HOME/.complete"
}

# True when the pid file names a live Kafka broker (not a recycled pid).
kafka_ours_running() {
  pid_alive "$KAFKA_PID" && tr '\0' ' ' < "/proc/$(cat "$KAFKA_PID")/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka '
}

# True when a Kafka broker answers a Metadata request (v4, supported by Kafka 2.x-4.x) on
# 127.0.0.1:$KAFKA_PORT and lists at least one broker, i.e. it has joined its own KRaft quorum.
kafka_usable() {
  local out
  out="$( {
    exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" || exit 1
    # size=20 | api_key=3 api_version=4 correlation_id=7 client_id="ready" | topics=null allow_auto_create=false
    printf '\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x07\x00\x05ready\xff\xff\xff\xff\x00' >&3
    # size(4) correlation_id(4) throttle_time_ms(4) brokers.count(4)
    timeout 3 head -c 16 <&3 | od -An -tu1
  } 2>/dev/null )" || return 1
  # shellcheck disable=SC2086
  set -- $out
  [ $# -eq 16 ] && [ "$8" -eq 7 ] && [ $(( ${13} + ${14} + ${15} )) -eq 0 ] && [ "${16}" -ge 1 ]
}

kafka_write_props() {
  mkdir -p "$KAFKA_DIR"
  cat > "$KAFKA_PROPS" <<PROPS
# Written by scripts/stack/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$KAFKA_DATA
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

kafka_start() {
  if kafka_ours_running; then
    wait_until "$KAFKA_START_TIMEOUT" "kafka" kafka_usable && return 0
    die "our Kafka (pid $(cat "$KAFKA_PID")) is running but not answering; see $KAFKA_LOG"
  fi
  if kafka_usable; then log "kafka already running on 127.0.0.1:$KAFKA_PORT, reusing"; return 0; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is held by something that is not Kafka (set KAFKA_PORT or stop it)"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT is held by something else (set KAFKA_CONTROLLER_PORT)"
  kafka_install
  kafka_write_props
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    log "formatting KRaft storage in $KAFKA_DATA (cluster $KAFKA_CLUSTER_ID)"
    # Static quorum (controller.quorum.voters), so no --standalone/--initial-controllers flag: same call on 3.x and 4.x.
    kafka_run_class -Xmx256m kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$KAFKA_PROPS" \
      >>"$KAFKA_LOG" 2>&1 || die "formatting Kafka storage failed: $(tail -5 "$KAFKA_LOG")"
    echo "$KAFKA_VERSION" > "$KAFKA_DIR/formatted-by"
  fi
  # Storage formatted by a newer Kafka carries a metadata.version an older one refuses to load.
  local fmt; fmt="$(cat "$KAFKA_DIR/formatted-by" 2>/dev/null || echo "$KAFKA_VERSION")"
  if [ "$(printf '%s\n%s\n' "$fmt" "$KAFKA_VERSION" | sort -V | head -1)" != "$fmt" ]; then
    die "$KAFKA_DATA was formatted by Kafka $fmt; $KAFKA_VERSION cannot downgrade it (stop, then rm -rf $KAFKA_DIR)"
  fi
  local java; java="$(kafka_java)"
  rm -f "$KAFKA_PID"
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT)"
  # bash -c writes its own pid, then execs java: the pid file names the JVM, which leads its own session.
  # shellcheck disable=SC2016,SC2086 # KAFKA_HEAP_OPTS is a list of flags
  setsid nohup nice -n "$STACK_BROKER_NICE" bash -c 'echo $$ > "$0"; exec "$@"' "$KAFKA_PID" \
    "$java" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "$(kafka_jvm_log_opts)" -Dkafka.logs.dir="$KAFKA_DIR" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
    >>"$KAFKA_LOG" 2>&1 </dev/null &
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until kafka_usable; do
    if [ $SECONDS -ge $deadline ]; then
      die "Kafka did not answer on 127.0.0.1:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s: $(tail -5 "$KAFKA_LOG")"
    fi
    if [ -f "$KAFKA_PID" ] && ! kill -0 "$(cat "$KAFKA_PID")" 2>/dev/null; then
      rm -f "$KAFKA_PID"; die "Kafka exited during startup: $(tail -5 "$KAFKA_LOG")"
    fi
    sleep 0.5
  done
  lower_session_priority "$(cat "$KAFKA_PID")"
  log "kafka ready"
}

kafka_stop() {
  kafka_ours_running || { rm -f "$KAFKA_PID"; return 0; }
  stop_pidfile "$KAFKA_PID" kafka "$KAFKA_STOP_TIMEOUT"
}

kafka_status() {
  local state=stopped detail="-"
  if kafka_usable; then
    state=running; detail="127.0.0.1:$KAFKA_PORT"
    if kafka_ours_running; then
      local pid ver; pid="$(cat "$KAFKA_PID")"
      ver="$(tr '\0' '\n' < "/proc/$pid/cmdline" | sed -n 's#.*/kafka-\([^/]*\)/libs/\*$#\1#p')"
      detail="$detail  (kafka ${ver:-?}, pid $pid)"
    else detail="$detail  (not started by us)"; fi
  elif kafka_ours_running; then state=starting; detail="pid $(cat "$KAFKA_PID"), 127.0.0.1:$KAFKA_PORT not answering yet"
  elif port_open "$KAFKA_PORT"; then state=unusable; detail="port $KAFKA_PORT held by something else"; fi
  printf '%-10s %-9s %s\n' kafka "$state" "$detail"
}

# e.g. kafka.sh perf-test --topic t --num-records 100000 --record-size 200 --throughput -1 \
#        --producer-props bootstrap.servers=127.0.0.1:9092 acks=all   (4.4 prefers --command-property)
# The topic must exist first (auto.create.topics.enable=false), or every send blocks for max.block.ms.
kafka_perf_test() {
  kafka_install
  kafka_run_class -Xmx256m org.apache.kafka.tools.ProducerPerformance "$@"
}

kafka_up() { kafka_start; }
kafka_down() { kafka_stop; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cmd="${1:-status}"; shift || true
  case "$cmd" in
    install) kafka_install; log "Kafka $KAFKA_VERSION jars in $KAFKA_LIBS" ;;
    start|up) kafka_start ;;
    stop|down) kafka_stop ;;
    status) kafka_status ;;
    perf-test) kafka_perf_test "$@" ;;
    *) die "usage: kafka.sh install|start|stop|status|perf-test [ProducerPerformance args...]" ;;
  esac
fi
