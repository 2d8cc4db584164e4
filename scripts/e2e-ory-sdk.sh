#!/usr/bin/env bash
# Ory's own Python SDK (ory-client 1.22.87) against the real binary, every key operation of its ApiKeysApi: once
# with admin authentication off (unchanged), once on with the SDK's documented `Configuration(access_token=…)`
# (spec §16.3), the admin key bootstrapped with `talos admin-keys create` before the server starts.
#   scripts/e2e-ory-sdk.sh BINARY PYTHON_TOOLS_BIN
set -euo pipefail
binary=$(realpath "$1")
tools=$2
cd "$(dirname "$0")/.."
. scripts/lib.sh
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

export TALOS_SECRETS_HMAC_CURRENT="ory-sdk-secret-that-is-long-enough-0123456789" TALOS_CREDENTIALS_ISSUER="https://sdk.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
export TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS=$("$binary" jwk generate eddsa --kid sdk --base64)
status=0
for auth in off on; do
  export TALOS_DB_DSN="sqlite://$work/$auth.db"
  key=()
  if [ "$auth" = on ]; then
    export TALOS_SERVE_ADMIN_AUTH_ENABLED=true
    key=("$("$binary" admin-keys create ory-sdk --permissions '*' -q)")
  fi
  port=$(free_port)
  TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/$auth.log" 2>&1 &
  pids+=($!)
  wait_alive "http://127.0.0.1:$port" "$work/$auth.log"
  "$tools/python" scripts/ory-sdk-check.py "http://127.0.0.1:$port" "${key[@]}" || status=1
done
exit $status
