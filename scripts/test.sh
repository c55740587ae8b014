#!/usr/bin/env bash
# All tests: unit tests and integration tests on real Kafka brokers that this script starts on their
# own ports and stops again: a plaintext one (KAFKA_PORT, default 19092) and a secured one with TLS,
# SASL/SCRAM and ACLs (KAFKA_SECURE_PORT, default 19093); two Apicurio schema registries
# (scripts/registry.sh): an open one (REGISTRY_PORT, default 19081) and one with HTTP basic auth (port + 1);
# a three-node cluster whose nodes the broker-failure tests kill (scripts/kafka-cluster.sh, CLUSTER_PORT,
# default 17092); and a Prometheus server that scrapes the metrics tests' consumers (scripts/prometheus.sh,
# PROMETHEUS_PORT, default 19090).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

export KAFKA_PORT="${KAFKA_PORT:-19092}"
secure_port="${KAFKA_SECURE_PORT:-19093}"
secure() { KAFKA_SECURITY=sasl_ssl KAFKA_PORT="$secure_port" bash scripts/kafka.sh "$@"; }
registry_port="${REGISTRY_PORT:-19081}"
registry_user_info="orders-test:$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
registry() { REGISTRY_PORT="$registry_port" bash scripts/registry.sh "$@"; }
auth_registry() { REGISTRY_PORT="$((registry_port + 1))" REGISTRY_BASIC_AUTH="$registry_user_info" bash scripts/registry.sh "$@"; }
export CLUSTER_PORT="${CLUSTER_PORT:-17092}"
cluster() { bash scripts/kafka-cluster.sh "$@"; }
export PROMETHEUS_PORT="${PROMETHEUS_PORT:-19090}"
prometheus() { bash scripts/prometheus.sh "$@"; }
# Fresh brokers each run, so no topic or group from an earlier run can leak into this one.
bash scripts/kafka.sh reset >/dev/null 2>&1 || true
secure reset >/dev/null 2>&1 || true
cluster reset >/dev/null 2>&1 || true
prometheus reset >/dev/null 2>&1 || true
trap 'bash scripts/kafka.sh stop; secure stop; registry stop; auth_registry stop; cluster stop; prometheus stop' EXIT
bash scripts/kafka.sh start
secure start
registry install
registry start
auth_registry start
cluster install >/dev/null
cluster start
prometheus install
prometheus start

export ORDERS_TEST_BROKERS="127.0.0.1:$KAFKA_PORT"
# The fault test's restarted broker; tied to KAFKA_PORT so that two runs on other ports do not collide.
export ORDERS_FAULT_BROKER_PORT="${ORDERS_FAULT_BROKER_PORT:-$((KAFKA_PORT + 200))}"
export ORDERS_TEST_SECURE_BROKERS="127.0.0.1:$secure_port"
export ORDERS_TEST_CLUSTER_BROKERS="$(cluster bootstrap)"
export ORDERS_TEST_SECURE_CLIENTS="$PWD/.kafka/sasl-ssl-broker-$secure_port/clients"
export ORDERS_TEST_REGISTRY="$(registry url)"
export ORDERS_TEST_AUTH_REGISTRY="$(auth_registry url)"
export ORDERS_TEST_AUTH_REGISTRY_USER_INFO="$registry_user_info"
export ORDERS_TEST_PROMETHEUS="$(prometheus url)"
export ORDERS_TEST_PROMETHEUS_TARGETS="$(prometheus targets)"
# The cluster's own tests kill and restart its brokers, or measure pauses that such a kill would cause:
# they run after the others, one file at a time, alone on the cluster.
cluster_tests=(dist/test/integration/cluster.test.js dist/test/integration/availability.test.js)
# Issue 26's stress of clean exits (stops two of three nodes, so alone on the cluster too) runs beside the soak.
clean_exit=dist/test/integration/clean-exit.test.js
others=()
for file in dist/test/unit/*.test.js dist/test/integration/*.test.js; do
  case " ${cluster_tests[*]} $clean_exit " in *" $file "*) ;; *) others+=("$file") ;; esac
done
failed=0
node --test --test-concurrency=2 "${others[@]}" || failed=1
# The seeded soak, short (~2.5 min): one round each of four fixed seeds (SIGKILLs under both group protocols,
# both guarantees), alone on the plaintext broker; it ends with "N passed, N failed" and exits 1 on a failure.
# Side by side with the clean-exit stress: they share no broker, and neither measures time (each waits on
# conditions; clean-exit bounds a run by twice its timeout + 30 s); their output is shown one after the other.
soak_log="$(mktemp)"
node dist/test/soak/soak.js --seed 1,3,13,19 --rounds 1 --minutes 4 >"$soak_log" 2>&1 &
soak=$!
node --test "$clean_exit" || failed=1
wait "$soak" || failed=1
cat "$soak_log"
rm -f "$soak_log"
node --test --test-concurrency=1 "${cluster_tests[@]}" || failed=1
exit "$failed"
