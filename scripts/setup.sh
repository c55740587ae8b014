#!/usr/bin/env bash
# Installs what `orders` needs on this machine, from nothing: the native build's libraries
# (Debian/Ubuntu), the npm packages, the compiled TypeScript and the Kafka broker jars.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# One line per step here; apt's, npm's and the compiler's output in .setup.log (gitignored: *.log).
# shellcheck source=lib/setup-log.sh
source scripts/lib/setup-log.sh
: > "$setup_log"

# The native client downloads a prebuilt binary where it can; where it cannot, it builds
# librdkafka from source linked against these system libraries.
native_build_packages=(g++ make python3 zlib1g-dev libssl-dev libzstd-dev libcurl4-openssl-dev libsasl2-dev liblz4-dev)

install_native_build_packages() {
  command -v apt-get >/dev/null && command -v dpkg-query >/dev/null || return 0
  local missing=()
  for package in "${native_build_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      echo "setup: not root, so not installing ${missing[*]}; a source build of the Kafka client would need them" >&2
      return 0
    fi
  fi
  step "updating apt's package lists" "${sudo[@]}" apt-get update -qq
  step "installing ${missing[*]}" env DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
}

native_client_loads() {
  node -e "require('@confluentinc/kafka-javascript')" 2>/dev/null
}

install_npm_packages() {
  # npm ci again only when the lock file changed since the last install.
  local stamp=node_modules/.orders-lock-hash
  local hash; hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && native_client_loads; then return 0; fi
  install_native_build_packages
  step "installing the npm packages (the Kafka client may build from source, about a minute)" env CKJS_LINKING=dynamic npm ci --no-audit --no-fund
  native_client_loads || { echo "setup: @confluentinc/kafka-javascript does not load after npm ci; npm's output is in $setup_log" >&2; exit 1; }
  echo "$hash" > "$stamp"
}

command -v node >/dev/null || { echo "setup: Node.js 20 or newer is needed" >&2; exit 1; }
install_npm_packages
step "compiling the TypeScript" npm run --silent build
if [ "${ORDERS_SKIP_BROKER:-}" != "1" ]; then step "installing the Kafka broker jars" bash scripts/kafka.sh install; fi
