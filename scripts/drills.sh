#!/usr/bin/env bash
# The crash and fault drills of the hardening round, on the real binary:
#   1. drill-crash.sh      kill -9 during an issue storm; every acknowledged key survives (SQLite, then Postgres);
#   2. drill-pg-outage.sh  PostgreSQL stopped and started under verify load: 503 (never 500, never a hang), recovery
#                          within 5 s without a restart (only with a DSN);
#   3. drill-hostile.py    10 000 seeded malformed requests against a `serve` on SQLite: no 5xx but 503, the §2.5
#                          envelope on every error, strict paths, the server still alive.
#   scripts/drills.sh BINARY [POSTGRES_DSN PG_PORT]
# Runs every drill even when one fails; exits non-zero if any failed.
set -uo pipefail
binary=$(realpath "$1")
dsn=${2:-}
pg_port=${3:-}
scripts=$(realpath "$(dirname "$0")")
. "$scripts/lib.sh"
if [ -n "$dsn" ] && [ -z "$pg_port" ]; then echo "usage: $0 BINARY [POSTGRES_DSN PG_PORT]" >&2; exit 2; fi
work=$(mktemp -d)
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
results=()
failed=0
run() { # name, command...
  local name=$1; shift
  echo "=== $name"
  local started=$SECONDS
  if "$@"; then results+=("ok   - $name ($((SECONDS - started))s)"); else failed=$((failed + 1)); results+=("FAIL - $name ($((SECONDS - started))s)"); fi
}

run "crash drill${dsn:+ (SQLite and Postgres)}" "$scripts/drill-crash.sh" "$binary" ${dsn:+"$dsn"}
if [ -n "$dsn" ]; then
  run "PostgreSQL outage drill" "$scripts/drill-pg-outage.sh" "$binary" "$dsn" "$pg_port"
fi

hostile() {
  local port
  port=$(free_port)
  # A JWT signing key, so that derive never answers 500 SIGNING_KEY_UNAVAILABLE.
  TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS=$("$binary" jwk generate eddsa --kid hostile --base64) \
    TALOS_SECRETS_HMAC_CURRENT="hostile-drill-secret-that-is-long-enough-0123456789" \
    TALOS_CREDENTIALS_ISSUER="https://hostile-drill.example.com" TALOS_DB_DSN="sqlite://$work/hostile.db" \
    TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_LOG_LEVEL=warn \
    TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/hostile.log" 2>&1 &
  server=$!
  wait_alive "http://127.0.0.1:$port"
  local status=0
  python3 "$scripts/drill-hostile.py" "http://127.0.0.1:$port" || status=$?
  kill -TERM "$server" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server" 2>/dev/null; then
    echo "FAIL: the server did not exit within 10 s of SIGTERM after the hostile drill"; kill -9 "$server"; status=1
  fi
  { wait "$server"; } 2>/dev/null
  server=""
  return $status
}
run "hostile-input drill" hostile

echo "=== drills"
printf '%s\n' "${results[@]}"
echo "drills: $(( ${#results[@]} - failed )) passed, $failed failed"
test "$failed" = 0
