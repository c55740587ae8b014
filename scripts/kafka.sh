#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) on 127.0.0.1, from jars that Maven resolves from Maven Central.
# Usage: scripts/kafka.sh install | start | stop | status | reset   (KAFKA_PORT, default 9092)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${KAFKA_PORT:-9092}"
controller_port="$((port + 1000))"
home="$root/.kafka"
libs="$home/libs"
state="$home/broker-$port"
pid_file="$state/pid"
log_file="$state/server.log"
start_timeout_s="${KAFKA_START_TIMEOUT_S:-90}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

install() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v java >/dev/null || die "java is not installed (Kafka 4 needs Java 17+)"
  command -v mvn >/dev/null || die "mvn is not installed (it resolves the Kafka jars)"
  echo "kafka.sh: resolving Kafka jars from Maven Central into $libs" >&2
  rm -rf "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid="$(cat "$pid_file")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

java_cmd=(java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties"
  -Dkafka.logs.file="$log_file" -cp "$libs/*")

write_config() {
  mkdir -p "$state/data"
  cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
}

start() {
  install
  if pid="$(running_pid)"; then echo "kafka.sh: broker already running on 127.0.0.1:$port (pid $pid)" >&2; return; fi
  if port_open "$port"; then die "port $port is taken by another process; set KAFKA_PORT"; fi
  write_config
  if [ ! -f "$state/data/meta.properties" ]; then
    local cluster_id; cluster_id="$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)"
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" >/dev/null
  fi
  : > "$log_file"
  nohup "${java_cmd[@]}" kafka.Kafka "$state/server.properties" >>"$state/stdout.log" 2>&1 </dev/null &
  echo $! > "$pid_file"
  local deadline=$((SECONDS + start_timeout_s))
  # The port opens before the broker is unfenced; the log line says it can serve clients.
  until port_open "$port" && grep -q "Kafka Server started" "$log_file" 2>/dev/null; do
    running_pid >/dev/null || { tail -20 "$state/stdout.log" "$log_file" >&2; die "broker exited during start-up"; }
    [ "$SECONDS" -lt "$deadline" ] || die "broker not ready after ${start_timeout_s}s; see $log_file"
    sleep 0.2
  done
  echo "kafka.sh: broker ready on 127.0.0.1:$port (pid $(cat "$pid_file"))" >&2
}

stop() {
  local pid
  pid="$(running_pid)" || { rm -f "$pid_file"; echo "kafka.sh: no broker running on port $port" >&2; return; }
  kill "$pid"
  # A controlled shutdown takes a few seconds; past 30 s it is stuck, so kill it.
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$pid_file"
  echo "kafka.sh: broker on port $port stopped" >&2
}

status() {
  if pid="$(running_pid)"; then echo "running on 127.0.0.1:$port (pid $pid)"; else echo "stopped"; return 3; fi
}

reset() { stop; rm -rf "$state"; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: scripts/kafka.sh install|start|stop|status|reset  (KAFKA_PORT=$port)" >&2; exit 2 ;;
esac
