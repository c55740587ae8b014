# shellcheck shell=bash
# One background Java service per pid file, for scripts/kafka.sh, scripts/kafka-cluster.sh and
# scripts/registry.sh: start it detached, wait until it is ready, stop it within a bound, say whether it runs.
# Sourced, not run. Messages go to stderr, prefixed with the name of the script that sources this file.

daemon_name="${BASH_SOURCE[1]##*/}"

say() { echo "$daemon_name: $*" >&2; }
die() { say "$@"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Dies naming the first of PORT... that another process listens on, and the variable that moves them.
ports_free() { # VARIABLE PORT...
  local variable="$1" port; shift
  for port in "$@"; do
    if port_open "$port"; then die "port $port is taken by another process; set $variable"; fi
  done
}

# Prints the pid in PID_FILE if that process is alive; fails otherwise.
running_pid() { # PID_FILE
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# Prints "running WHERE (pid N)", or "stopped" and fails with 3 (as LSB init scripts' status does).
daemon_status() { # PID_FILE WHERE
  local pid
  if pid="$(running_pid "$1")"; then echo "running $2 (pid $pid)"; else echo "stopped"; return 3; fi
}

# Runs COMMAND detached from this shell (its output appended to OUTPUT_FILE) and writes its pid to PID_FILE.
daemon_start() { # PID_FILE OUTPUT_FILE COMMAND...
  local pid_file="$1" output="$2"; shift 2
  nohup "$@" >>"$output" 2>&1 </dev/null &
  echo $! > "$pid_file"
}

# Polls READY_COMMAND every 0.2 s until it succeeds. Dies, with the tail of LOG_FILEs, if the process
# exits first, or, naming the last LOG_FILE, once SECONDS reaches DEADLINE (the message says TIMEOUT_S).
daemon_wait_ready() { # WHAT PID_FILE DEADLINE TIMEOUT_S TAIL_LINES LOG_FILE... -- READY_COMMAND...
  local what="$1" pid_file="$2" deadline="$3" timeout_s="$4" lines="$5" logs=()
  shift 5
  while [ "$1" != -- ]; do logs+=("$1"); shift; done
  shift
  until "$@"; do
    running_pid "$pid_file" >/dev/null || { tail -n "$lines" "${logs[@]}" >&2; die "$what exited during start-up"; }
    [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${timeout_s}s; see ${logs[-1]}"
    sleep 0.2
  done
}

# Sends SIGTERM to the process in PID_FILE and prints its pid; fails, removing a stale PID_FILE, if none runs.
daemon_signal() { # PID_FILE
  local pid
  pid="$(running_pid "$1")" || { rm -f "$1"; return 1; }
  kill "$pid"
  echo "$pid"
}

# Waits up to TIMEOUT_S for PID to exit after daemon_signal, then SIGKILLs it (a shutdown that long is
# stuck) and fails; either way removes PID_FILE.
daemon_reap() { # PID_FILE PID TIMEOUT_S
  local pid_file="$1" pid="$2" status=0
  for _ in $(seq 1 $(($3 * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; status=1; fi
  rm -f "$pid_file"
  return "$status"
}

# daemon_signal, then daemon_reap; fails only if nothing was running.
daemon_stop() { # PID_FILE TIMEOUT_S
  local pid
  pid="$(daemon_signal "$1")" || return 1
  daemon_reap "$1" "$pid" "$2" || true
}

# SIGKILL, as a crash would: no clean shutdown. Returns once the process is gone and prints its pid.
daemon_kill() { # PID_FILE
  local pid
  pid="$(running_pid "$1")" || return 1
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$1"
  echo "$pid"
}
