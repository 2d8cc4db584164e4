#!/usr/bin/env bash
# Slow-reader storm on the real binary (spec §16.14): with max_connections=5 and idle_timeout=1s, 5 connections
# that pipeline 20 000 JWKS requests each and never read must not keep a fresh client out: once the server's
# output to them has stalled, a fresh client is served within 2 s, measured, on the admin and on the public
# surface, and the server closes the stalled connections (scripts/storm-readers.py does the measuring).
#   scripts/e2e-storm.sh BINARY
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
here=$(dirname "$0")
work=$(mktemp -d)
. "$here/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT
export TALOS_SECRETS_HMAC_CURRENT="storm-secret-that-is-long-enough-0123456" TALOS_CREDENTIALS_ISSUER="https://x.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=info

start() { # mode port; waits for /health/alive
  local mode=$1 port=$2
  env TALOS_SERVE_HTTP_PORT="$port" TALOS_DB_DSN="sqlite://$work/$mode.db" TALOS_SERVE_METRICS_PORT="$(free_port)" \
    TALOS_SERVE_HTTP_MAX_CONNECTIONS=5 TALOS_SERVE_HTTP_IDLE_TIMEOUT=1s "$binary" serve "$mode" >"$work/$mode.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/alive" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server $mode did not start:"; cat "$work/$mode.log"; return 1
}

for surface in admin public; do
  port=$(free_port)
  start "$surface" "$port"
  if [ "$surface" = admin ]; then path=/v2alpha1/admin/derivedKeys/jwks.json; else path=/v2alpha1/derivedKeys/jwks.json; fi
  check "$surface: $path answers 200 before the storm" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")" = 200
  python3 "$here/storm-readers.py" --port "$port" --path "$path" --connections 5 --requests 20000 \
    --within 2 --limit 15 --close-within 3 --label "$surface" | tee "$work/$surface.txt" || true
  result=$(grep '^RESULT ' "$work/$surface.txt" || echo "RESULT served=0 elapsed=-1 closed_total=0/5")
  value() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$result"; }
  check "$surface: a fresh client is served within 2 s of a slow-reader storm's stall (took $(value elapsed) s)" \
    python3 -c "import sys; e = float('$(value elapsed)'); sys.exit(0 if 0 <= e <= 2 else 1)"
  check "$surface: the server closes every storm connection whose output stalls ($(value closed_total) closed)" \
    test "$(value closed_total)" = 5/5
  check "$surface: the server answers /health/alive after the storm" \
    test "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/alive")" = 200
done

echo "e2e-storm: $passed passed, $failed failed"
[ "$failed" = 0 ]
