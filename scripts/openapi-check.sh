#!/usr/bin/env bash
# The served OpenAPI contract (spec §15.11) in every server mode: a valid OpenAPI 3.1 document by
# openapi-spec-validator, the same bytes on every call, and only the operations of that mode.
#   scripts/openapi-check.sh BINARY TOOLS_BIN   (TOOLS_BIN from scripts/python-tools.sh)
set -euo pipefail
binary=$(realpath "$1")
tools=$2
work=$(mktemp -d)
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
for mode in all admin public; do
  port=$(free_port)
  args=(serve); [ "$mode" = all ] || args+=("$mode")
  TALOS_SECRETS_HMAC_CURRENT="openapi-check-secret-that-is-long-enough-01" TALOS_CREDENTIALS_ISSUER=https://e2e.example.com \
    TALOS_DB_DSN="sqlite://$work/$mode.db" TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_LOG_LEVEL=warn \
    TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" "${args[@]}" >"$work/$mode.log" 2>&1 &
  server=$!
  wait_alive "http://127.0.0.1:$port"
  curl -sf "http://127.0.0.1:$port/openapi.json" -o "$work/$mode.json"
  curl -sf "http://127.0.0.1:$port/openapi.json" -o "$work/$mode.again.json"
  check "$mode: openapi-spec-validator accepts the served document" "$tools/openapi-spec-validator" "$work/$mode.json"
  check "$mode: the same bytes on every call" cmp -s "$work/$mode.json" "$work/$mode.again.json"
  surfaces=$(jq -r '[.paths[][] | objects | ."x-talos-surface" // empty] | unique | join(",")' "$work/$mode.json")
  case $mode in
    all) expected=admin,always,public ;;
    admin) expected=admin,always ;;
    public) expected=always,public ;;
  esac
  check "$mode: only the operations of the mode ($surfaces)" test "$surfaces" = "$expected"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
echo "openapi-check: $passed passed, $failed failed"
test "$failed" = 0
