#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) on 127.0.0.1, from jars that Maven resolves from Maven Central.
# Usage: scripts/kafka.sh install | start | stop | status | reset   (KAFKA_PORT, default 9092)
#   KAFKA_SECURITY=sasl_ssl scripts/kafka.sh ...   a secured broker instead: TLS + SASL/SCRAM-SHA-512 + ACLs,
#   KAFKA_PORT default 9093, state in .kafka/sasl-ssl-broker-$port, ACLs on names starting with
#   KAFKA_ACL_PREFIX (default "orders"); start prints the client properties files (librdkafka names, as for
#   `kcat -F`) on stderr and `status` prints the application's one.
#   KAFKA_OFFSET_METADATA_MAX_BYTES=1024 scripts/kafka.sh start   a broker that keeps less offset commit metadata
#   (offset.metadata.max.bytes, 4096 by default), as some clusters are set up; applied at each start.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
security="${KAFKA_SECURITY:-plaintext}"
case "$security" in
  plaintext) port="${KAFKA_PORT:-9092}"; state_name="broker" ;;
  # Its own default port and state dir, so it runs beside a plaintext broker.
  sasl_ssl) port="${KAFKA_PORT:-9093}"; state_name="sasl-ssl-broker" ;;
  *) echo "kafka.sh: KAFKA_SECURITY must be plaintext or sasl_ssl, not '$security'" >&2; exit 2 ;;
esac
controller_port="$((port + 1000))"
home="$root/.kafka"
libs="$home/libs"
tools_libs="$home/tools-libs"
state="$home/$state_name-$port"
pid_file="$state/pid"
log_file="$state/server.log"
start_timeout_s="${KAFKA_START_TIMEOUT_S:-90}"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"

install() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v java >/dev/null || die "java is not installed (Kafka 4 needs Java 17+)"
  command -v mvn >/dev/null || die "mvn is not installed (it resolves the Kafka jars)"
  say "resolving Kafka jars from Maven Central into $libs"
  rm -rf "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

java_cmd=(java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties"
  -Dkafka.logs.file="$log_file" -cp "$libs/*")

plaintext_listeners() {
  cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
PROPS
}

# Clients and inter-broker traffic (the transaction coordinator writes commit markers through it) use
# SASL_SSL, the broker authenticating as admin. The controller listener is TLS with client certificates
# required rather than PLAINTEXT: the broker in this process reaches its controller with its own
# certificate, so the controller sees User:CN=orders-kafka-broker, and nobody else on this host can, where
# a PLAINTEXT controller port would make User:ANONYMOUS, i.e. any local process, a super user.
sasl_ssl_listeners() {
  cat <<PROPS
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_SSL://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
listener.name.controller.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(password_of admin)";
ssl.keystore.type=PEM
ssl.keystore.location=$tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:$broker_principal
PROPS
}

write_config() {
  mkdir -p "$state/data"
  { "${security}_listeners"; cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
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
    if [ -n "${KAFKA_OFFSET_METADATA_MAX_BYTES:-}" ]; then echo "offset.metadata.max.bytes=$KAFKA_OFFSET_METADATA_MAX_BYTES"; fi
  } > "$state/server.properties"
}

# The secured mode's SCRAM users exist from the first start on: StorageTool writes them into the
# bootstrap metadata, as the broker cannot authenticate anyone (itself included) before they exist.
format_storage() {
  local cluster_id; cluster_id="$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)"
  local scram=() user
  if [ "$security" = sasl_ssl ]; then
    for user in "${users[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(password_of "$user")]"); done
  fi
  "${java_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" "${scram[@]}" >/dev/null
}

# --- secured mode (KAFKA_SECURITY=sasl_ssl) ---------------------------------------------------------

tls="$state/tls"
clients="$state/clients"
acl_prefix="${KAFKA_ACL_PREFIX:-orders}"
broker_principal="CN=orders-kafka-broker"
# admin sets up ACLs; orders-app is the application; orders-noacl authenticates but may do nothing;
# orders-notxn may do all but use transactional ids.
users=(admin orders-app orders-noacl orders-notxn)

# AclCommand is in kafka-tools, which the plaintext broker does not need; a directory of its own, so a
# broker running from $libs is never touched.
install_tools() {
  if [ -f "$tools_libs/.complete" ]; then return; fi
  say "resolving Kafka's admin tools from Maven Central into $tools_libs"
  rm -rf "$tools_libs"
  mvn -q -B -f "$root/scripts/kafka/tools/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tools_libs" -DincludeScope=runtime >&2
  touch "$tools_libs/.complete"
}

# A throw-away CA signs the broker's certificate (for 127.0.0.1 and localhost, as clients check the host
# name); a second, unrelated CA lets tests meet a broker they do not trust.
make_certs() {
  if [ -f "$tls/broker.pem" ]; then return; fi
  mkdir -p "$tls"
  local ca
  for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout "$tls/$ca.key" -out "$tls/$ca.pem" \
      -subj "/CN=orders throw-away $ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$tls/openssl.log"
  done
  openssl req -newkey rsa:2048 -nodes -keyout "$tls/broker.key" -out "$tls/broker.csr" \
    -subj "/$broker_principal" 2>>"$tls/openssl.log"
  # clientAuth too: the broker shows this certificate to its own controller.
  openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -days 3650 \
    -set_serial "0x$(openssl rand -hex 8)" -out "$tls/broker.crt" 2>>"$tls/openssl.log" \
    -extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth,clientAuth")
  # Kafka's PEM key store is one file: the unencrypted PKCS#8 key (so no ssl.key.password), then the certificate.
  cat "$tls/broker.key" "$tls/broker.crt" > "$tls/broker.pem.tmp"
  mv "$tls/broker.pem.tmp" "$tls/broker.pem"
  rm -f "$tls/broker.csr"
}

client_file() { echo "$clients/$1.properties"; }

# librdkafka's property names (what `kcat -F` and the node client take). The passwords are random per
# state dir and are kept only in these files (and the broker's own config), all mode 600.
write_client_file() { # file user password ca
  cat > "$1" <<PROPS
bootstrap.servers=127.0.0.1:$port
security.protocol=SASL_SSL
sasl.mechanisms=SCRAM-SHA-512
sasl.username=$2
sasl.password=$3
ssl.ca.location=$4
PROPS
}

password_of() { sed -n 's/^sasl\.password=//p' "$(client_file "$1")"; }

make_credentials() {
  if [ -f "$clients/.complete" ]; then return; fi
  mkdir -p "$clients"
  local user
  # Hex passwords need no quoting in JAAS or in StorageTool's [name=...,password=...].
  for user in "${users[@]}"; do write_client_file "$(client_file "$user")" "$user" "$(openssl rand -hex 16)" "$tls/ca.pem"; done
  write_client_file "$clients/wrong-password.properties" orders-app "wrong$(openssl rand -hex 16)" "$tls/ca.pem"
  write_client_file "$clients/unknown-user.properties" orders-nobody "$(openssl rand -hex 16)" "$tls/ca.pem"
  write_client_file "$clients/untrusted-ca.properties" orders-app "$(password_of orders-app)" "$tls/other-ca.pem"
  # The Java admin tools take Java client property names.
  cat > "$clients/admin.java.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(password_of admin)";
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
PROPS
  touch "$clients/.complete"
}

# A small client JVM: these commands run for a second or two.
tools_cmd=(java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties"
  -Dkafka.logs.file="$state/tools.log" -cp "$tools_libs/*")

acl_command() {
  "${tools_cmd[@]}" org.apache.kafka.tools.AclCommand --bootstrap-server "127.0.0.1:$port" \
    --command-config "$clients/admin.java.properties" "$@" 2>>"$state/acls.log"
}

# The least the orders application needs, on names starting with the prefix, found by taking each one
# away in turn (Kafka 4.1.1, librdkafka 2.15): create topics (topic CREATE), produce idempotently (topic
# WRITE: since KIP-679 WRITE on any topic allows an idempotent producer id, no cluster IDEMPOTENT_WRITE),
# produce in transactions (transactional-id WRITE; topic WRITE for AddPartitionsToTxn), consume in groups
# (topic READ, group READ), commit offsets in transactions (group READ for AddOffsetsToTxn, topic READ for
# TxnOffsetCommit). READ/WRITE imply DESCRIBE (metadata, list offsets, committed offsets). Nothing on the
# cluster: no DESCRIBE or DESCRIBE_CONFIGS, even for creating a compacted topic. orders-notxn has the same
# without the transactional-id ACL. With another KAFKA_ACL_PREFIX on an existing state dir the old ACLs stay
# until `reset`.
grant_acls() {
  local prefixed=(--resource-pattern-type prefixed) pids=() pid listed
  local app=(--allow-principal User:orders-app) both=(--allow-principal User:orders-app --allow-principal User:orders-notxn)
  # Three JVMs side by side: each takes seconds to start, then does a few milliseconds of work.
  acl_command --add "${both[@]}" --operation Create --operation Write --topic "$acl_prefix" "${prefixed[@]}" >>"$state/acls.log" & pids+=($!)
  acl_command --add "${both[@]}" --operation Read --topic "$acl_prefix" --group "$acl_prefix" "${prefixed[@]}" >>"$state/acls.log" & pids+=($!)
  acl_command --add "${app[@]}" --operation Write --transactional-id "$acl_prefix" "${prefixed[@]}" >>"$state/acls.log" & pids+=($!)
  for pid in "${pids[@]}"; do wait "$pid" || { tail -20 "$state/acls.log" >&2; die "could not create the ACLs; see $state/acls.log"; }; done
  # CreateAcls returns once the controller has committed them; the broker's authorizer, which answers
  # DescribeAcls, applies them a moment later. Clients may start when it lists all 9.
  for _ in 1 2 3 4 5; do
    listed="$(acl_command --list --topic "$acl_prefix" --group "$acl_prefix" --transactional-id "$acl_prefix" "${prefixed[@]}" |
      grep -c 'principal=User:orders-' || true)"
    if [ "$listed" -ge 9 ]; then return; fi
    sleep 0.5
  done
  die "the broker lists $listed of the 9 ACLs; see $state/acls.log"
}

print_client_files() {
  local name
  say "client properties (librdkafka names, e.g. kcat -F FILE):"
  for name in "${users[@]}" wrong-password unknown-user untrusted-ca; do echo "  $(client_file "$name")" >&2; done
}

# The port opens before the broker is unfenced; the log line says it can serve clients.
serving() { port_open "$port" && grep -q "Kafka Server started" "$log_file" 2>/dev/null; }

start() {
  install
  if pid="$(running_pid "$pid_file")"; then
    say "broker already running on 127.0.0.1:$port (pid $pid)"
    if [ "$security" = sasl_ssl ]; then print_client_files; fi
    return
  fi
  ports_free KAFKA_PORT "$port"
  if [ "$security" = sasl_ssl ]; then
    install_tools
    # Keys, passwords and the broker's config (which holds admin's password) are for this user only.
    umask 077
    make_certs
    make_credentials
  fi
  write_config
  if [ ! -f "$state/data/meta.properties" ]; then format_storage; fi
  : > "$log_file"
  daemon_start "$pid_file" "$state/stdout.log" "${java_cmd[@]}" kafka.Kafka "$state/server.properties"
  daemon_wait_ready broker "$pid_file" $((SECONDS + start_timeout_s)) "$start_timeout_s" 20 \
    "$state/stdout.log" "$log_file" -- serving
  if [ "$security" = sasl_ssl ]; then
    grant_acls
    print_client_files
    say "secured broker ready on 127.0.0.1:$port (pid $(cat "$pid_file")), ACLs on names starting with '$acl_prefix'"
  else
    say "broker ready on 127.0.0.1:$port (pid $(cat "$pid_file"))"
  fi
}

# A controlled shutdown takes a few seconds; past 30 s it is stuck, so kill it.
stop() {
  if daemon_stop "$pid_file" 30; then say "broker on port $port stopped"; else say "no broker running on port $port"; fi
}

status() {
  daemon_status "$pid_file" "on 127.0.0.1:$port" || return
  if [ "$security" = sasl_ssl ]; then echo "client properties: $(client_file orders-app)"; fi
}

reset() { stop; rm -rf "$state"; }

case "${1:-}" in
  install) install ;;
  install-tools) install_tools ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: [KAFKA_SECURITY=plaintext|sasl_ssl] scripts/kafka.sh install|install-tools|start|stop|status|reset  (KAFKA_PORT=$port; sasl_ssl: default 9093, KAFKA_ACL_PREFIX=$acl_prefix)" >&2; exit 2 ;;
esac
