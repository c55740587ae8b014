#!/usr/bin/env bash
# The demo from the README: a broker (yours if one answers, else a local one), 100 orders,
# a consumer with 30% simulated failures, then what landed in the dead-letter topic.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

broker="${KAFKA_BROKERS:-localhost:9092}"
first="${broker%%,*}"
if (exec 3<>"/dev/tcp/${first%:*}/${first##*:}") 2>/dev/null; then
  ORDERS_SKIP_BROKER=1 bash scripts/setup.sh
  echo "demo: using the broker at $broker" >&2
else
  bash scripts/setup.sh
  KAFKA_PORT="${first##*:}" bash scripts/kafka.sh start
  echo "demo: local broker left running; stop it with: npm run kafka stop" >&2
fi
export KAFKA_BROKERS="$broker"

orders() { node bin/orders.js "$@"; }
echo "\$ orders produce --count 100"
orders produce --count 100
echo
echo "\$ orders consume --fail-rate 0.3 --exit-at-end"
orders consume --fail-rate 0.3 --exit-at-end
echo
echo "\$ orders dlq-tail --exit-at-end"
orders dlq-tail --exit-at-end
