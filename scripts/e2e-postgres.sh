#!/usr/bin/env bash
# End-to-end on PostgreSQL with the real binary: migrations, the quickstart, two replicas sharing one database,
# a crypto-backend swap on the same database, and a database outage (503, never 500; ready again without restart).
#   scripts/e2e-postgres.sh BINARY DSN [PG_PORT]
set -euo pipefail
binary=$(realpath "$1")
dsn=$2
pg_port=${3:-55432}
scripts=$(realpath "$(dirname "$0")")
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

# A fresh database for this run.
db="talos_e2e_$$"
TALOS_DB_DSN=$(fresh_database "$dsn" "$db")
export TALOS_DB_DSN
export TALOS_SECRETS_HMAC_CURRENT="e2e-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://e2e.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn

start() { # name port [extra env...]; waits for /health/alive
  local name=$1 port=$2; shift 2
  env TALOS_SERVE_HTTP_PORT="$port" "$@" TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/alive" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server $name did not start:"; cat "$work/$name.log"; return 1
}
stop() { local pid; eval "pid=\$pid_$1"; kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; }

port_a=$(free_port)
check "serve refuses an unmigrated schema" bash -c "TALOS_SERVE_METRICS_PORT=$(free_port) TALOS_SERVE_HTTP_PORT=$port_a '$binary' serve 2>&1 | grep -q 'database schema is not up to date'"
check "migrate status lists pending migrations" bash -c "'$binary' migrate status | grep -q '1 create_api_keys pending'"
check "migrate up" "$binary" migrate up
check "migrate status after up" bash -c "'$binary' migrate status | grep -q '3 rate_limit_counters applied'"

port_b=$(free_port)
start a "$port_a"
start b "$port_b" TALOS_CRYPTO_BACKEND=libsodium
a="http://127.0.0.1:$port_a" b="http://127.0.0.1:$port_b"
mkdir -p "$work/bin" && ln -s "$binary" "$work/bin/talos"
check "quickstart on replica A (openssl)" env PATH="$work/bin:$PATH" TALOS_URL="$a" "$scripts/quickstart.sh"
check "quickstart on replica B (libsodium)" env PATH="$work/bin:$PATH" TALOS_URL="$b" "$scripts/quickstart.sh"

verify() { curl -s -X POST "$1/v2alpha1/admin/apiKeys:verify" -H 'Cache-Control: no-cache' -d "{\"credential\":\"$2\"}"; }
issued=$(curl -s -X POST "$a/v2alpha1/admin/issuedApiKeys" -d '{"name":"r","actor_id":"replicas"}')
secret=$(jq -r .secret <<<"$issued"); key_id=$(jq -r .issued_api_key.key_id <<<"$issued")
check "issued on A verifies on B" test "$(verify "$b" "$secret" | jq -r .is_valid)" = true
check "revoke on B" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$b/v2alpha1/admin/apiKeys/$key_id:revoke" -d '{"reason":"REVOCATION_REASON_KEY_COMPROMISE"}')" = 204
check "A sees REVOKED" test "$(verify "$a" "$secret" | jq -r .error_code)" = VERIFICATION_ERROR_REVOKED

# Crypto swap: keys and page tokens made under one backend work under the other (A runs OpenSSL, B libsodium).
for i in 1 2 3; do curl -s -X POST "$b/v2alpha1/admin/issuedApiKeys" -d '{"name":"swap","actor_id":"swap"}' >"$work/swap$i.json"; done
token=$(curl -s "$b/v2alpha1/admin/issuedApiKeys?page_size=1&filter=actor_id%3D%22swap%22" | jq -r .next_page_token)
check "page token from libsodium decodes under openssl" test "$(curl -s -o /dev/null -w '%{http_code}' "$a/v2alpha1/admin/issuedApiKeys?page_size=1&filter=actor_id%3D%22swap%22&page_token=$token")" = 200
all_valid=true
for i in 1 2 3; do [ "$(verify "$a" "$(jq -r .secret "$work/swap$i.json")" | jq -r .is_valid)" = true ] || all_valid=false; done
check "keys issued under libsodium verify under openssl" $all_valid
imported_id=$(curl -s -X POST "$b/v2alpha1/admin/importedApiKeys" -d '{"raw_key":"sk_swap_imported","name":"swap","actor_id":"swap"}' | jq -r .key_id)
check "a key imported under libsodium verifies under openssl (same hash)" test "$(verify "$a" sk_swap_imported | jq -r .key_id)" = "$imported_id"
stop a
start a "$port_a" TALOS_CRYPTO_BACKEND=libsodium
check "after restarting A with libsodium, A's earlier key still verifies" test "$(verify "$a" "$(jq -r .secret "$work/swap1.json")" | jq -r .is_valid)" = true
check "unknown crypto backend fails at startup naming the known ones" bash -c "TALOS_CRYPTO_BACKEND=nacl TALOS_SERVE_METRICS_PORT=$(free_port) TALOS_SERVE_HTTP_PORT=$(free_port) '$binary' serve 2>&1 | grep -q 'known: openssl, libsodium'"

# Outage: the database goes away and comes back; replicas answer 503, never 500, and recover without a restart.
"$scripts/postgres.sh" stop "$pg_port"
sleep 1
ready_down=$(curl -s -o /dev/null -w '%{http_code}' "$a/health/ready")
verify_down=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$a/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$secret\"}")
issue_down=$(curl -s -X POST "$b/v2alpha1/admin/issuedApiKeys" -d '{"name":"x","actor_id":"y"}' | jq -r '.error.details[0].reason')
"$scripts/postgres.sh" start "$pg_port" >/dev/null
check "ready is 503 while the database is down" test "$ready_down" = 503
check "verify is 503 while the database is down" test "$verify_down" = 503
check "issue fails with SERVICE_UNAVAILABLE" test "$issue_down" = SERVICE_UNAVAILABLE
recovered=false
for _ in $(seq 1 50); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$a/health/ready")" = 200 ] && { recovered=true; break; }
  sleep 0.1
done
check "ready is 200 within 5 s of the database returning" $recovered
check "verify works again without a restart" test "$(verify "$b" "$(jq -r .secret "$work/swap2.json")" | jq -r .is_valid)" = true
check "no 500 in any log" bash -c "! grep -h '\"status\":\"500\"' '$work'/*.log"

# A corrupted row answers 500 INTERNAL and a PATCH leaves it untouched (spec §15.7), as on SQLite.
corrupt_id=$(curl -s -X POST "$a/v2alpha1/admin/issuedApiKeys" -d '{"name":"c","actor_id":"c"}' | jq -r .issued_api_key.key_id)
psql "$TALOS_DB_DSN" -qtAc "UPDATE api_keys SET status = 9 WHERE key_id = '$corrupt_id'"
check "a row with an unknown status answers 500 INTERNAL" test "$(curl -s "$a/v2alpha1/admin/issuedApiKeys/$corrupt_id" | jq -r .error.status)" = INTERNAL
check "a PATCH of it answers 500" test "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH "$b/v2alpha1/admin/issuedApiKeys/$corrupt_id" -d '{"name":"renamed"}')" = 500
check "the corrupted row is left untouched" test "$(psql "$TALOS_DB_DSN" -qtAc "SELECT name || ':' || status FROM api_keys WHERE key_id = '$corrupt_id'")" = c:9

stop a; stop b
echo "e2e-postgres: $passed passed, $failed failed"
test "$failed" = 0
