#!/usr/bin/env bash
# The seeded soak (test/soak/soak.ts): npm run soak -- [--seed S[,S…]] [--minutes M | --rounds N] [--round R] [--cluster]
# On $ORDERS_TEST_BROKERS (or $KAFKA_BROKERS) when set; otherwise on scripts/kafka.sh's broker (KAFKA_PORT),
# started here if it is not running and then stopped again. --cluster: scripts/kafka-cluster.sh's nodes, likewise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build
stops=()
trap 'for s in "${stops[@]}"; do bash $s stop >/dev/null 2>&1 || true; done' EXIT
if [ -z "${ORDERS_TEST_BROKERS:-}${KAFKA_BROKERS:-}" ]; then
  bash scripts/kafka.sh status >/dev/null 2>&1 || { bash scripts/kafka.sh start >/dev/null; stops+=(scripts/kafka.sh); }
  export ORDERS_TEST_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
fi
case " $* " in *" --cluster "*)
  if [ -z "${ORDERS_TEST_CLUSTER_BROKERS:-}" ]; then
    bash scripts/kafka-cluster.sh status >/dev/null 2>&1 || { bash scripts/kafka-cluster.sh install >/dev/null; bash scripts/kafka-cluster.sh start >/dev/null; stops+=(scripts/kafka-cluster.sh); }
    export ORDERS_TEST_CLUSTER_BROKERS="$(bash scripts/kafka-cluster.sh bootstrap)"
  fi ;;
esac
node dist/test/soak/soak.js "$@"
