#!/usr/bin/env bash
# The demo from the README: a broker (yours if one answers, else a local one), 100 orders,
# a consumer with 30% simulated failures, then what landed in the dead-letter topic.
# `--registry` runs it in schema registry mode: a registry (SCHEMA_REGISTRY_URL if it answers, else a
# local Apicurio Registry) and topics of its own, orders-sr*, since its values are framed, not bare Avro.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

registry_mode=0
case "${1:-}" in
  --registry) registry_mode=1 ;;
  "") ;;
  *) echo "usage: npm run demo [-- --registry]" >&2; exit 2 ;;
esac

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

flags=(); consume_flags=(); tail_flags=()
if [ "$registry_mode" = 1 ]; then
  registry="${SCHEMA_REGISTRY_URL:-http://localhost:18081/apis/ccompat/v7}"
  if curl -fsS -o /dev/null --max-time 2 "$registry/subjects" 2>/dev/null; then
    echo "demo: using the schema registry at $registry" >&2
  else
    registry_port="$(sed -E 's#^https?://[^:/]+:([0-9]+).*#\1#; t; s#.*#18081#' <<<"$registry")"
    bash scripts/registry.sh install
    REGISTRY_PORT="$registry_port" bash scripts/registry.sh start
    registry="$(REGISTRY_PORT="$registry_port" bash scripts/registry.sh url)"
    echo "demo: local schema registry left running; stop it with: npm run registry stop" >&2
  fi
  export SCHEMA_REGISTRY_URL="$registry"
  flags=(--topic orders-sr)
  consume_flags=(--topic orders-sr --dlq-topic orders-sr-dlq --aggregates-topic orders-sr-aggregates --group orders-sr-consumer)
  tail_flags=(--dlq-topic orders-sr-dlq)
fi

orders() { echo "\$ orders $*"; node bin/orders.js "$@"; echo; }
[ "$registry_mode" = 1 ] && echo "\$ export SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL"
orders produce --count 100 "${flags[@]}"
orders consume --fail-rate 0.3 --exit-at-end "${consume_flags[@]}"
orders dlq-tail --exit-at-end "${tail_flags[@]}"
