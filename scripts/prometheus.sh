#!/usr/bin/env bash
# Local Prometheus server on 127.0.0.1 for the metrics tests: Debian's `prometheus` package, scraping every
# 1 s whatever targets the tests list as files in its targets folder (file service discovery: a test writes
# targets/<name>.json and deletes it when done; `targets` prints the folder).
# Usage: scripts/prometheus.sh install | start | stop | status | reset | url | targets
#   (PROMETHEUS_PORT, default 19090)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PROMETHEUS_PORT:-19090}"
home="$root/.prometheus"
state="$home/prometheus-$port"
pid_file="$state/pid"
log_file="$state/prometheus.log"
targets="$state/targets"
start_timeout_s="${PROMETHEUS_START_TIMEOUT_S:-60}"
base_url="http://127.0.0.1:$port"

# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"

# The package's own service is not used (no systemd here, and its port is 9090): only its binaries.
install() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then return; fi
  command -v apt-get >/dev/null || die "prometheus is not installed, and this is no Debian/Ubuntu to apt-get it on"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || die "prometheus is not installed, and only root can apt-get it"
    sudo=(sudo -n)
  fi
  say "installing Debian's prometheus package"
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >&2
}

write_config() {
  mkdir -p "$targets" "$state/data"
  cat > "$state/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: orders
    file_sd_configs:
      - files: ['$targets/*.json']
        refresh_interval: 1s
YAML
}

answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base_url/-/ready" 2>/dev/null || true)" = 200 ]; }

start() {
  install
  command -v curl >/dev/null || die "curl is not installed (it checks that Prometheus answers)"
  if pid="$(running_pid "$pid_file")"; then say "prometheus already running at $base_url (pid $pid)"; return; fi
  ports_free PROMETHEUS_PORT "$port"
  write_config
  : > "$log_file"
  daemon_start "$pid_file" "$log_file" prometheus --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/data" \
    --storage.tsdb.retention.time=2h --web.listen-address="127.0.0.1:$port"
  daemon_wait_ready prometheus "$pid_file" $((SECONDS + start_timeout_s)) "$start_timeout_s" 30 "$log_file" -- answers
  say "prometheus ready at $base_url (pid $(cat "$pid_file")), targets from $targets/*.json"
}

stop() {
  if daemon_stop "$pid_file" 20; then say "prometheus on port $port stopped"; else say "no prometheus running on port $port"; fi
}

status() { daemon_status "$pid_file" "at $base_url"; }

reset() { stop; rm -rf "$state"; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  url) echo "$base_url" ;;
  targets) echo "$targets" ;;
  *) echo "usage: scripts/prometheus.sh install|start|stop|status|reset|url|targets  (PROMETHEUS_PORT=$port)" >&2; exit 2 ;;
esac
