#!/usr/bin/env bash
# Benchmark of `orders` against kcat on a fresh local broker of its own, which it starts and stops.
# Usage: npm run bench [-- --quick] [--rounds N] [--only produce|input|consume|slow-orders|restore] [--consume-args="--flag value"]   (BENCH_KAFKA_PORT, default 29092)
# --only input: plain produce and produce --input of a file of as many JSON lines, nothing else. --only consume:
# plain produce and kcat -P, then consume (the floor loop, orders, orders exactly-once with --metrics-port, kcat -G, the Python loop). --only slow-orders / restore: issue 18's phase alone.
# Consume and latency run under both guarantees (--guarantee at-least-once and exactly-once, each judged
# on its own target); a --guarantee inside --consume-args narrows them to that one guarantee, and the
# rows of the other say "not measured". The rest of --consume-args goes on each of those `orders consume`
# runs and the registry one (not on the fail-rate runs, which set their own flags). parseArgs wants the "=".
# Registry mode is measured beside plain mode against a local Apicurio registry (BENCH_REGISTRY_PORT, default
# 29081; BENCH_REGISTRY=0 skips it).
# Prints a markdown table on stdout and writes bench/results/<timestamp>.json and a chart of it beside it,
# <timestamp>.svg (bench/chart.ts; `npm run bench:chart -- bench/results/X.json` draws one for an existing file).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Not KAFKA_PORT: a developer's exported KAFKA_PORT would point the reset below at their own broker.
port="${BENCH_KAFKA_PORT:-29092}"
registry_port="${BENCH_REGISTRY_PORT:-29081}"
registry() { REGISTRY_PORT="$registry_port" bash scripts/registry.sh "$@"; }

apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  echo "bench: installing $*" >&2
  # Try the cached package lists first; refresh them only when that fails.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >&2 \
    || { "${sudo[@]}" apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >&2; }
}

bash scripts/setup.sh
command -v kcat >/dev/null || apt_install kcat
# The consume baseline in Python (bench/python_consume.py). Debian's packages, so Debian's python3, not a pyenv one on PATH.
/usr/bin/python3 -c 'import confluent_kafka, avro' 2>/dev/null || apt_install python3-confluent-kafka python3-avro
# GNU time reports each process's peak RSS at its exit.
[ -x /usr/bin/time ] || apt_install time

# A fresh broker each run, so topics of earlier runs neither fill the disk nor share the page cache.
KAFKA_PORT="$port" bash scripts/kafka.sh reset >/dev/null 2>&1 || true
bench_pid=""
cleanup() {
  # The bench stops its own orders and kcat processes on SIGTERM; then the broker can go.
  if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  KAFKA_PORT="$port" bash scripts/kafka.sh stop
  [ "${BENCH_REGISTRY:-1}" = 0 ] || registry stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM
KAFKA_PORT="$port" bash scripts/kafka.sh start
broker_pid="$(KAFKA_PORT="$port" bash scripts/kafka.sh status | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')"
registry_flags=()
if [ "${BENCH_REGISTRY:-1}" != 0 ]; then
  registry install
  registry start
  registry_flags=(--registry "$(registry url)")
fi

# In the background, so a signal to this script runs the trap at once instead of after the bench.
node dist/bench/run.js --broker "127.0.0.1:$port" --broker-pid "$broker_pid" "${registry_flags[@]}" "$@" &
bench_pid=$!
wait "$bench_pid"
bench_pid=""
