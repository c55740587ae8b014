# shellcheck shell=bash
# One line per setup step on stderr; what the step's tools print (apt, npm, tsc) goes to a log file,
# shown by its path when a step fails. Sourced by scripts/setup.sh.

setup_log="${ORDERS_SETUP_LOG:-$PWD/.setup.log}"

# step "what it does" command args...: runs the command with its output in the log.
step() {
  local what="$1"; shift
  echo "setup: $what" >&2
  { echo "=== $(date -u +%FT%TZ) setup: $what"; echo "+ $*"; } >> "$setup_log"
  if ! "$@" >> "$setup_log" 2>&1; then
    echo "setup: failed while $what; its output is in $setup_log" >&2
    exit 1
  fi
}
