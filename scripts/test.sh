#!/usr/bin/env bash
# All tests: unit tests and integration tests on a real Kafka broker that this script starts
# on its own port (KAFKA_PORT, default 19092) and stops again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

export KAFKA_PORT="${KAFKA_PORT:-19092}"
# A fresh broker each run, so no topic or group from an earlier run can leak into this one.
bash scripts/kafka.sh reset >/dev/null 2>&1 || true
trap 'bash scripts/kafka.sh stop' EXIT
bash scripts/kafka.sh start

export ORDERS_TEST_BROKERS="127.0.0.1:$KAFKA_PORT"
node --test --test-concurrency=2 dist/test/unit/*.test.js dist/test/integration/*.test.js
