# Shared by the end-to-end scripts: `. "$(dirname "$0")/lib.sh"`.
#   check NAME COMMAND...   runs COMMAND, counts and prints ok/FAIL
#   free_port               prints a free TCP port on 127.0.0.1
#   wait_alive URL [LOG]    waits up to 15 s for URL/health/alive; on failure prints the tail of LOG and returns 1
#   fresh_database DSN NAME (re)creates PostgreSQL database NAME on DSN's server; prints its DSN (DSN's options kept)
#   drop_database DSN NAME  drops it (connections are closed first; never fails)
passed=0 failed=0
check() { local name=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok   - $name"; else failed=$((failed + 1)); echo "FAIL - $name"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_alive() {
  local url=$1 log=${2:-}
  for _ in $(seq 1 150); do curl -sf "$url/health/alive" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "no answer from $url/health/alive within 15 s" >&2
  if [ -n "$log" ] && [ -f "$log" ]; then tail -n 30 "$log" >&2; fi
  return 1
}
fresh_database() {
  local base=${1%%\?*} query=${1#*\?}
  [ "$query" != "$1" ] || query=""
  PGOPTIONS="-c client_min_messages=warning" psql "${base%/*}/postgres" -qtA \
    -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" >/dev/null
  echo "${base%/*}/$2${query:+?$query}"
}
drop_database() {
  local base=${1%%\?*}
  PGOPTIONS="-c client_min_messages=warning" psql "${base%/*}/postgres" -qtAc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" \
    >/dev/null 2>&1 || true
}
