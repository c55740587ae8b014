#!/usr/bin/env bash
# All tests: unit tests and integration tests on real Kafka brokers that this script starts on their
# own ports and stops again: a plaintext one (KAFKA_PORT, default 19092) and a secured one with TLS,
# SASL/SCRAM and ACLs (KAFKA_SECURE_PORT, default 19093), and a three-node cluster whose nodes the
# broker-failure tests kill (scripts/kafka-cluster.sh, CLUSTER_PORT, default 17092).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

export KAFKA_PORT="${KAFKA_PORT:-19092}"
secure_port="${KAFKA_SECURE_PORT:-19093}"
secure() { KAFKA_SECURITY=sasl_ssl KAFKA_PORT="$secure_port" bash scripts/kafka.sh "$@"; }
export CLUSTER_PORT="${CLUSTER_PORT:-17092}"
cluster() { bash scripts/kafka-cluster.sh "$@"; }
# Fresh brokers each run, so no topic or group from an earlier run can leak into this one.
bash scripts/kafka.sh reset >/dev/null 2>&1 || true
secure reset >/dev/null 2>&1 || true
cluster reset >/dev/null 2>&1 || true
trap 'bash scripts/kafka.sh stop; secure stop; cluster stop' EXIT
bash scripts/kafka.sh start
secure start
cluster install >/dev/null
cluster start

export ORDERS_TEST_BROKERS="127.0.0.1:$KAFKA_PORT"
export ORDERS_TEST_SECURE_BROKERS="127.0.0.1:$secure_port"
export ORDERS_TEST_CLUSTER_BROKERS="$(cluster bootstrap)"
export ORDERS_TEST_SECURE_CLIENTS="$PWD/.kafka/sasl-ssl-broker-$secure_port/clients"
node --test --test-concurrency=2 dist/test/unit/*.test.js dist/test/integration/*.test.js
