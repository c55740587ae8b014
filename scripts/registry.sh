#!/usr/bin/env bash
# Local Apicurio Registry on 127.0.0.1, for tests of the Confluent wire format against a real schema registry.
# It serves the Confluent Schema Registry API at http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7 (what `url` prints).
# Storage is in memory: a restart forgets every schema, and ids start again at 1.
# The distribution (Maven Central artifact io.apicurio:apicurio-registry-app:VERSION:tar.gz:all) needs Java 21+;
# the script looks for one (REGISTRY_JAVA, JAVA_HOME, PATH, /usr/lib/jvm/*) since the default java may be 17.
# Usage: scripts/registry.sh install | start | stop | status | reset | url
#   (REGISTRY_PORT, default 18081; its management port, REGISTRY_PORT + 1000, is bound too)
#   REGISTRY_BASIC_AUTH=user:password makes every API call need that HTTP basic login (one user, in the
#   registry's own configuration: no identity server); without it the API is open.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# 3.0.9, the last release on Java 17, was tried too: its parent POM did not resolve from Maven Central here
# with the pinned plugin, and its GET /config answers NONE while it enforces BACKWARD.
version=3.3.3
port="${REGISTRY_PORT:-18081}"
management_port="$((port + 1000))"
home="$root/.registry"
dist="$home/apicurio-registry-$version"
state="$home/registry-$port"
pid_file="$state/pid"
log_file="$state/registry.log"
start_timeout_s="${REGISTRY_START_TIMEOUT_S:-90}"
base_url="http://127.0.0.1:$port/apis/ccompat/v7"
basic_auth="${REGISTRY_BASIC_AUTH:-}"
# Pinned so that `install` does not depend on whichever plugin version Maven would pick.
dependency_plugin="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"

java_min=21

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'; }

# Prints the path of a java binary of version $java_min or later: REGISTRY_JAVA if set (and then it must do),
# else JAVA_HOME's, the one on PATH, or the newest JDK under /usr/lib/jvm (where the Temurin JDK lives).
find_java() {
  local candidate major
  if [ -n "${REGISTRY_JAVA:-}" ]; then
    major="$(java_major "$REGISTRY_JAVA")" || true
    [ "${major:-0}" -ge "$java_min" ] || die "REGISTRY_JAVA=$REGISTRY_JAVA is Java ${major:-?}; Apicurio Registry $version needs Java $java_min+"
    echo "$REGISTRY_JAVA"; return
  fi
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null && candidates+=("$(command -v java)")
  for candidate in /usr/lib/jvm/*/bin/java; do [ -x "$candidate" ] && candidates+=("$candidate"); done
  local best="" best_major=0
  for candidate in "${candidates[@]}"; do
    [ -x "$candidate" ] || continue
    major="$(java_major "$candidate")" || continue
    if [ "${major:-0}" -gt "$best_major" ]; then best="$candidate"; best_major="$major"; fi
  done
  [ "$best_major" -ge "$java_min" ] || die "Apicurio Registry $version needs Java $java_min+, and no such JDK was found" \
    "(looked at JAVA_HOME, PATH and /usr/lib/jvm/*; newest found: Java $best_major). Install one, or set REGISTRY_JAVA=/path/to/bin/java"
  echo "$best"
}

install() {
  if [ -f "$dist/.complete" ]; then return; fi
  command -v mvn >/dev/null || die "mvn is not installed (it resolves the Apicurio Registry distribution)"
  say "resolving Apicurio Registry $version from Maven Central into $dist"
  rm -rf "$dist" "$home/download"
  mvn -q -B -Dstyle.color=never "$dependency_plugin:copy" \
    -Dartifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all" -DoutputDirectory="$home/download" >&2
  mkdir -p "$dist"
  tar --no-same-owner -xzf "$home/download/apicurio-registry-app-$version-all.tar.gz" -C "$dist"
  rm -rf "$home/download"   # Maven's local repository keeps a copy of the archive
  touch "$dist/.complete"
}

app_jar() {
  [ -f "$dist/quarkus-run.jar" ] || die "no quarkus-run.jar in $dist; delete that folder and run: scripts/registry.sh install"
  echo "$dist/quarkus-run.jar"
}

http_status() {
  local auth=(); [ -n "$basic_auth" ] && auth=(-u "$basic_auth")
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${auth[@]}" "$1" 2>/dev/null || true
}

# Ready once the Confluent API answers a request.
answers() { [ "$(http_status "$base_url/subjects")" = 200 ]; }

start() {
  install
  command -v curl >/dev/null || die "curl is not installed (it checks that the registry answers)"
  if pid="$(running_pid "$pid_file")"; then say "registry already running at $base_url (pid $pid)"; return; fi
  ports_free REGISTRY_PORT "$port"
  if port_open "$management_port"; then die "management port $management_port is taken by another process; set REGISTRY_PORT"; fi
  local java jar; java="$(find_java)"; jar="$(app_jar)"
  # Basic authentication by Quarkus against one user listed in the configuration (its "embedded" realm).
  # The password shows in the process's arguments: this is a registry for tests.
  local auth_flags=()
  if [ -n "$basic_auth" ]; then
    local user="${basic_auth%%:*}" password="${basic_auth#*:}"
    [[ "$basic_auth" == *:* && "$user" =~ ^[A-Za-z0-9_.-]+$ ]] ||
      die "REGISTRY_BASIC_AUTH must be user:password, the user made of letters, digits, '_', '.', '-'"
    auth_flags=(-Dquarkus.http.auth.basic=true -Dquarkus.security.users.embedded.plain-text=true
      "-Dquarkus.security.users.embedded.users.$user=$password")
  fi
  mkdir -p "$state"
  : > "$log_file"
  # BACKWARD is Confluent Schema Registry's default compatibility; Apicurio's is NONE.
  (cd "$state" && daemon_start "$pid_file" "$log_file" env QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$port" \
    QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT="$management_port" \
    "$java" -Xmx256m -XX:+UseSerialGC -Djava.awt.headless=true \
      -Dapicurio.rules.global.compatibility=BACKWARD "${auth_flags[@]}" \
      -jar "$jar")
  daemon_wait_ready registry "$pid_file" $((SECONDS + start_timeout_s)) "$start_timeout_s" 30 "$log_file" -- answers
  say "registry ready at $base_url (pid $(cat "$pid_file"))"
}

stop() {
  if daemon_stop "$pid_file" 20; then say "registry on port $port stopped"; else say "no registry running on port $port"; fi
}

status() { daemon_status "$pid_file" "at $base_url"; }

# The schemas live in the process's memory, so stopping it is what forgets them; this also drops the log.
reset() { stop; rm -rf "$state"; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  url) echo "$base_url" ;;
  *) echo "usage: scripts/registry.sh install|start|stop|status|reset|url  (REGISTRY_PORT=$port)" >&2; exit 2 ;;
esac
