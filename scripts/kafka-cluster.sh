#!/usr/bin/env bash
# Local three-node Apache Kafka (KRaft) cluster on 127.0.0.1, for tests where a broker dies.
# Same jars as scripts/kafka.sh; each node is a combined broker + controller.
#
# Usage: scripts/kafka-cluster.sh COMMAND   (CLUSTER_PORT, default 17092: nodes on 17092, 17093, 17094)
#   install                  resolve the broker jars (scripts/kafka.sh install) and the admin tools
#   start | stop | status    the whole cluster; start waits until all three brokers serve clients
#   reset                    stop and delete all data
#   kill N                   SIGKILL node N (1-3): a crash, no controlled shutdown
#   stop-node N              clean stop of node N
#   start-node N             restart node N on its data and wait until its replicas are back in sync
#   launch-node N            restart node N on its data and wait until it serves clients (callers that
#                            can check the replicas faster than a JVM tool per poll wait for them themselves)
#   bootstrap                print the bootstrap servers, e.g. 127.0.0.1:17092,127.0.0.1:17093,127.0.0.1:17094
#   leader TOPIC PARTITION   print the node id that leads the partition (or "none")
#   coordinator group|transaction ID   print the node id of the group / transaction coordinator of ID
#   controller               print the node id of the active KRaft controller (the quorum's leader)
#   tool CLASS ARGS...       run a Kafka admin tool class, e.g. org.apache.kafka.tools.TopicCommand
#
# `coordinator` agrees with what the brokers report for an existing id:
#   tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server B --describe --group G --state
#   tool org.apache.kafka.tools.TransactionsCommand --bootstrap-server B describe --transactional-id T
# Measured on 2 shared cores: start 11-15 s (first start formats), a node restart 3-15 s to "serving"
# and about 1-2 s more to in sync, 350-520 MB RSS per node.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Below Linux's ephemeral range (32768-60999): while a node is dead, a peer reconnecting to its port can be
# given that very port as its own source port and connect to itself (seen: a broker read its own ApiVersions
# request as the controller's answer, CorrelationIdMismatchException, and exited).
base_port="${CLUSTER_PORT:-17092}"
nodes=(1 2 3)
home="$root/.kafka"
libs="$home/libs"
tools_libs="$home/tools-libs"
cluster="$home/cluster-$base_port"
start_timeout_s="${KAFKA_START_TIMEOUT_S:-120}"
# The internal topics' partition counts; `coordinator` hashes ids onto them as the brokers do.
offsets_partitions=10
transaction_partitions=10

# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"

port_of() { echo $((base_port + $1 - 1)); }
controller_port_of() { echo $((base_port + 1000 + $1 - 1)); }
state_of() { echo "$cluster/node-$1"; }
pid_file_of() { echo "$cluster/node-$1/pid"; }
bootstrap() { local n s=""; for n in "${nodes[@]}"; do s+="${s:+,}127.0.0.1:$(port_of "$n")"; done; echo "$s"; }

check_node() { [[ "${1:-}" =~ ^[123]$ ]] || die "node must be 1, 2 or 3 (got '${1:-}')"; }

install() {
  # The broker jars, and the admin tools (topics, groups, transactions) in .kafka/tools-libs.
  bash "$root/scripts/kafka.sh" install
  bash "$root/scripts/kafka.sh" install-tools
}

# Three brokers share two cores with the tests: a small heap, one GC thread, and the JIT's minimum.
# Sets java_cmd for node N (an array, so that nohup can run it).
java_cmd_for() {
  local state; state="$(state_of "$1")"
  java_cmd=(java -Xms256m -Xmx512m -XX:+UseG1GC -XX:ParallelGCThreads=1 -XX:ConcGCThreads=1 -XX:CICompilerCount=2
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties"
    -Dkafka.logs.file="$state/server.log" -cp "$libs/*")
}

# Admin tools are short-lived: the C1 compiler alone starts them faster.
tool() {
  [ -f "$tools_libs/.complete" ] || die "admin tools not installed; run: scripts/kafka-cluster.sh install"
  java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" -Dkafka.logs.file=/dev/null -cp "$tools_libs/*" "$@"
}

voters() { local n s=""; for n in "${nodes[@]}"; do s+="${s:+,}$n@127.0.0.1:$(controller_port_of "$n")"; done; echo "$s"; }

write_config() {
  local n="$1" state; state="$(state_of "$n")"
  mkdir -p "$state/data"
  # Static voters: all three nodes are known up front, so no KIP-853 bootstrap is needed.
  cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(port_of "$n"),CONTROLLER://127.0.0.1:$(controller_port_of "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(port_of "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=$offsets_partitions
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=$transaction_partitions
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
# A restarted node takes its preferred leaderships back within seconds, not 5 minutes: the tests pick
# whom to kill by leadership (the busiest leader, a coordinator).
leader.imbalance.check.interval.seconds=5
auto.create.topics.enable=false
PROPS
}

cluster_id() {
  if [ ! -f "$cluster/cluster-id" ]; then
    mkdir -p "$cluster"
    java_cmd_for 1
    "${java_cmd[@]}" kafka.tools.StorageTool random-uuid > "$cluster/cluster-id"
  fi
  cat "$cluster/cluster-id"
}

# Starts node N in the background on its data directory (formatting it the first time); does not wait.
launch() {
  local n="$1" state; state="$(state_of "$n")"
  if pid="$(running_pid "$(pid_file_of "$n")")"; then say "node $n already running (pid $pid)"; return; fi
  ports_free CLUSTER_PORT "$(port_of "$n")" "$(controller_port_of "$n")"
  write_config "$n"
  java_cmd_for "$n"
  if [ ! -f "$state/data/meta.properties" ]; then
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$(cluster_id)" -c "$state/server.properties" >/dev/null
  fi
  # Keep the previous run's log (e.g. the one that was killed) next to the new one.
  [ -f "$state/server.log" ] && mv "$state/server.log" "$state/server.log.1"
  daemon_start "$(pid_file_of "$n")" "$state/stdout.log" "${java_cmd[@]}" kafka.Kafka "$state/server.properties"
}

# The port opens before the broker is unfenced; "Kafka Server started" says it can serve clients,
# and a broker only gets there once a controller quorum (two of three nodes) is up.
serving() { port_open "$(port_of "$1")" && grep -q "Kafka Server started" "$(state_of "$1")/server.log" 2>/dev/null; }

wait_ready() {
  local n="$1" deadline="$2" state; state="$(state_of "$n")"
  daemon_wait_ready "node $n" "$(pid_file_of "$n")" "$deadline" "$start_timeout_s" 20 \
    "$state/stdout.log" "$state/server.log" -- serving "$n"
}

# A restarted node serves clients before it has caught up; until then a partition it replicates has
# only two in-sync replicas and another crash would stop writes (min.insync.replicas=2).
wait_in_sync() {
  local deadline="$1" lagging
  while :; do
    lagging="$(tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" \
      --describe --under-replicated-partitions 2>/dev/null | grep -c Partition || true)"
    [ "$lagging" = 0 ] && return
    [ "$SECONDS" -lt "$deadline" ] || die "$lagging partitions still under-replicated after ${start_timeout_s}s"
    sleep 0.5
  done
}

elapsed_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

start() {
  install
  local t0="$EPOCHREALTIME" n
  for n in "${nodes[@]}"; do launch "$n"; done
  local deadline=$((SECONDS + start_timeout_s))
  for n in "${nodes[@]}"; do wait_ready "$n" "$deadline"; done
  say "cluster ready on $(bootstrap) in $(elapsed_since "$t0") s"
}

# With "serving" as the second argument, returns once the node serves clients, before its replicas catch up.
start_node() {
  local n="$1" until="${2:-in-sync}" t0="$EPOCHREALTIME"
  [ -f "$(state_of "$n")/data/meta.properties" ] || die "node $n has no data; start the cluster first"
  launch "$n"
  local deadline=$((SECONDS + start_timeout_s))
  wait_ready "$n" "$deadline"
  say "node $n serving on 127.0.0.1:$(port_of "$n") after $(elapsed_since "$t0") s (pid $(running_pid "$(pid_file_of "$n")"))"
  [ "$until" = serving ] && return
  wait_in_sync "$deadline"
  say "node $n in sync (no under-replicated partitions) after $(elapsed_since "$t0") s"
}

# SIGTERM runs a controlled shutdown (leadership moves away first); past 30 s it is stuck, so kill it.
# All signalled first, then waited for: the nodes shut down side by side.
stop_nodes() {
  local n pid pids=()
  for n in "$@"; do
    if pid="$(daemon_signal "$(pid_file_of "$n")")"; then pids+=("$n:$pid"); fi
  done
  local entry
  for entry in "${pids[@]}"; do
    n="${entry%%:*}" pid="${entry#*:}"
    daemon_reap "$(pid_file_of "$n")" "$pid" 30 || say "node $n did not stop in 30 s; killing it"
    say "node $n stopped"
  done
}

kill_node() {
  local n="$1" pid
  pid="$(daemon_kill "$(pid_file_of "$n")")" || die "node $n is not running"
  say "node $n (pid $pid) killed"
}

status() {
  local n pid up=0
  for n in "${nodes[@]}"; do
    if pid="$(running_pid "$(pid_file_of "$n")")"; then
      up=$((up + 1))
      echo "node $n: running on 127.0.0.1:$(port_of "$n") (pid $pid, rss $(($(awk '/VmRSS/ { print $2 }' "/proc/$pid/status") / 1024)) MB)"
    else
      echo "node $n: stopped"
    fi
  done
  [ "$up" -gt 0 ] || return 3
}

leader() {
  local topic="$1" partition="$2" line
  line="$(tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" --describe --topic "$topic" 2>&1 |
    grep -P "\tPartition: $partition\t")" || die "no partition $partition of topic $topic"
  sed -E 's/.*\tLeader: ([^\t]+)\t.*/\1/' <<< "$line"
}

# Java's String.hashCode, then Kafka's Utils.abs (MIN_VALUE maps to 0), as the brokers place an id on a
# partition of __consumer_offsets / __transaction_state. ASCII and BMP ids only.
java_hash_abs() {
  local s="$1" h=0 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((31 * h + c) & 0xFFFFFFFF))
  done
  ((h >= 0x80000000)) && h=$((h - 0x100000000))
  ((h == -0x80000000)) && h=0
  echo $((h < 0 ? -h : h))
}

# The coordinator of an id is the leader of the internal partition the id hashes to. Computing it this
# way also works before the group or transactional id exists, and needs one admin call.
coordinator() {
  local kind="$1" id="$2" topic count
  case "$kind" in
    group) topic=__consumer_offsets count=$offsets_partitions ;;
    transaction) topic=__transaction_state count=$transaction_partitions ;;
    *) die "coordinator group|transaction ID" ;;
  esac
  leader "$topic" $(($(java_hash_abs "$id") % count))
}

# The active controller is the leader of the KRaft quorum, as the quorum itself reports it (brokers answer
# clients' DescribeCluster with any live broker as "controller" under KRaft, so the admin API cannot tell).
controller() {
  tool org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$(bootstrap)" describe --status 2>&1 |
    sed -nE 's/^LeaderId:[[:space:]]+([0-9]+)$/\1/p' | grep . || die "no active controller reported"
}

usage() {
  echo "usage: scripts/kafka-cluster.sh install|start|stop|status|reset|bootstrap|kill N|stop-node N|start-node N|launch-node N|leader TOPIC PARTITION|coordinator group|transaction ID|controller|tool CLASS ARGS...  (CLUSTER_PORT=$base_port)" >&2
  exit 2
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_nodes "${nodes[@]}" ;;
  status) status ;;
  reset) stop_nodes "${nodes[@]}"; rm -rf "$cluster" ;;
  bootstrap) bootstrap ;;
  kill) check_node "${2:-}"; kill_node "$2" ;;
  stop-node) check_node "${2:-}"; stop_nodes "$2" ;;
  start-node) check_node "${2:-}"; start_node "$2" ;;
  launch-node) check_node "${2:-}"; start_node "$2" serving ;;
  leader) [ $# -eq 3 ] || usage; leader "$2" "$3" ;;
  coordinator) [ $# -eq 3 ] || usage; coordinator "$2" "$3" ;;
  controller) controller ;;
  tool) [ $# -ge 2 ] || usage; shift; tool "$@" ;;
  *) usage ;;
esac
