#!/usr/bin/env bash
# Throughput and tail latency of the real release binary on loopback, measured with wrk, for every storage ×
# crypto combination, plus the per-primitive cost of each crypto backend.
# Each endpoint is also printed as a ratio of GET /health/alive measured in the same configuration.
#   scripts/bench.sh [--duration 5s] [--connections 32] [--threads 2] [--storage sqlite,postgres] [--crypto openssl,libsodium]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=5s connections=32 threads=2 storages=sqlite,postgres cryptos=openssl,libsodium
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --storage) storages=$2; shift 2 ;;
    --crypto) cryptos=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk; need jq jq
swift build -c release --product talos >/dev/null
swift build -c release --product talos-crypto-bench >/dev/null
swift build -c release --product talos-cache-bench >/dev/null
binary=$(realpath .build/release/talos)
work=$(mktemp -d)
server=""
trap '[ -z "$server" ] || kill $server 2>/dev/null; rm -rf "$work"' EXIT
ed_key=$("$binary" jwk generate eddsa --kid ed --base64)
rsa_key=$("$binary" jwk generate rsa --kid rsa --bits 2048 --base64)
. scripts/lib.sh

lua() { # file, body, extra header line
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n%s\n' "'$2'" "$3" >"$work/$1"
}
declare -A rps p99
run() { # label, url, [script]
  local out errors
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency ${3:+-s "$work/$3"} "$2")
  rps[$1]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99[$1]=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses/ {print $NF}' <<<"$out")
  [ -z "$errors" ] || echo "warning: $1 had $errors non-2xx responses" >&2
}

bench_config() { # storage crypto
  local storage=$1 crypto=$2 port url dsn
  port=$(free_port); url="http://127.0.0.1:$port"
  # The production verify path (config/oel.json): the memory cache and rate limits on.
  local env=(TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT="$port" TALOS_LOG_LEVEL=error TALOS_CRYPTO_BACKEND="$crypto"
    TALOS_SECRETS_HMAC_CURRENT=bench-secret-that-is-long-enough-0123456789 TALOS_CREDENTIALS_ISSUER=http://bench
    TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_CACHE_TTL=5m TALOS_RATE_LIMIT_ENABLED=true
    TALOS_RATE_LIMIT_BACKEND=memory)
  if [ "$storage" = postgres ]; then
    local base; base=$(scripts/postgres.sh start)
    local db="talos_bench_$$_$crypto"
    psql "${base%%\?*}" -qtAc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    dsn="${base%/*}/$db?sslmode=disable&pool_max_conns=16"
    env TALOS_DB_DSN="$dsn" "$binary" migrate up >/dev/null
  else
    dsn="sqlite://$work/bench-$crypto.db"
  fi
  # libsodium has no RSA: its servers get only the Ed25519 key.
  local urls="$ed_key"
  [ "$crypto" = libsodium ] || urls="$ed_key,$rsa_key"
  env+=(TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS="$urls")
  env "${env[@]}" TALOS_DB_DSN="$dsn" TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/server.log" 2>&1 &
  server=$!
  wait_alive "$url"
  local secret jwt_ed jwt_rs="" macaroon
  secret=$(curl -sf -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"bench","actor_id":"bench","scopes":["read"]}' | jq -r .secret)
  jwt_ed=$(curl -sf -X POST "$url/v2alpha1/admin/apiKeys:derive" -d "{\"credential\":\"$secret\",\"ttl\":\"1h\"}" | jq -r .token.token)
  macaroon=$(curl -sf -X POST "$url/v2alpha1/admin/apiKeys:derive" -d "{\"credential\":\"$secret\",\"ttl\":\"1h\",\"algorithm\":\"TOKEN_ALGORITHM_MACAROON\"}" | jq -r .token.token)
  curl -sf -X POST "$url/v2alpha1/admin/importedApiKeys" -d '{"raw_key":"sk_bench_imported_key","name":"bench","actor_id":"bench"}' >/dev/null
  local limited
  limited=$(curl -sf -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"bench","actor_id":"bench","rate_limit_policy":{"quota":"1000000000","window":"60s"}}' | jq -r .secret)
  if [ "$crypto" != libsodium ]; then
    # A short-lived second process on the same database signs with the RSA key (signing_key_id=rsa).
    local helper_port; helper_port=$(free_port)
    env "${env[@]}" TALOS_DB_DSN="$dsn" TALOS_SERVE_HTTP_PORT="$helper_port" \
      TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEY_ID=rsa TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >/dev/null 2>&1 &
    local helper=$!
    wait_alive "http://127.0.0.1:$helper_port"
    jwt_rs=$(curl -sf -X POST "http://127.0.0.1:$helper_port/v2alpha1/admin/apiKeys:derive" -d "{\"credential\":\"$secret\",\"ttl\":\"1h\"}" | jq -r .token.token)
    kill -TERM $helper; wait $helper 2>/dev/null || true
  fi
  local credential
  for credential in "$secret" "$jwt_ed" "$macaroon" sk_bench_imported_key ${jwt_rs:+"$jwt_rs"}; do
    [ "$(curl -s -X POST "$url/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$credential\"}" | jq -r .is_valid)" = true ] \
      || echo "warning: a benchmark credential does not verify in $storage/$crypto" >&2
  done
  lua verify.lua "{\"credential\":\"$secret\"}" ''
  lua jwt-eddsa.lua "{\"credential\":\"$jwt_ed\"}" ''
  lua jwt-rs256.lua "{\"credential\":\"$jwt_rs\"}" ''
  lua macaroon.lua "{\"credential\":\"$macaroon\"}" ''
  lua imported.lua '{"credential":"sk_bench_imported_key"}' 'wrk.headers["Cache-Control"] = "no-cache"'
  lua verify-nocache.lua "{\"credential\":\"$secret\"}" 'wrk.headers["Cache-Control"] = "no-cache"'
  lua verify-limited.lua "{\"credential\":\"$limited\"}" ''
  lua issue.lua '{"name":"bench","actor_id":"bench","scopes":["read"],"ttl":"1h"}' ''
  local c="$storage/$crypto"
  run "$c alive" "$url/health/alive"
  run "$c verify" "$url/v2alpha1/admin/apiKeys:verify" verify.lua
  # Latency at half of the cached verify's saturation throughput: each connection waits so that together they
  # offer half the measured rate (wrk's delay(); the latency excludes the wait).
  local half_delay
  half_delay=$(awk -v r="${rps[$c verify]}" -v c="$connections" 'BEGIN {printf "%d", 2000 * c / r}')
  lua verify-half.lua "{\"credential\":\"$secret\"}" "function delay() return $half_delay end"
  run "$c verify_half_load" "$url/v2alpha1/admin/apiKeys:verify" verify-half.lua
  run "$c verify_rl_memory" "$url/v2alpha1/admin/apiKeys:verify" verify-limited.lua
  run "$c verify_no_cache" "$url/v2alpha1/admin/apiKeys:verify" verify-nocache.lua
  run "$c issue" "$url/v2alpha1/admin/issuedApiKeys" issue.lua
  run "$c verify_jwt_eddsa" "$url/v2alpha1/admin/apiKeys:verify" jwt-eddsa.lua
  [ -z "$jwt_rs" ] || run "$c verify_jwt_rs256" "$url/v2alpha1/admin/apiKeys:verify" jwt-rs256.lua
  run "$c verify_macaroon" "$url/v2alpha1/admin/apiKeys:verify" macaroon.lua
  run "$c verify_imported" "$url/v2alpha1/admin/apiKeys:verify" imported.lua
  rss["$c"]=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$server/status")
  kill -TERM $server; wait $server 2>/dev/null || true; server=""
  if [ "$storage" = postgres ]; then
    # The cluster-wide limiter: one atomic upsert per verification.
    env "${env[@]}" TALOS_DB_DSN="$dsn" TALOS_RATE_LIMIT_BACKEND=postgres TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/server.log" 2>&1 &
    server=$!
    wait_alive "$url"
    run "$c verify_rl_postgres" "$url/v2alpha1/admin/apiKeys:verify" verify-limited.lua
    kill -TERM $server; wait $server 2>/dev/null || true; server=""
  fi
}

declare -A rss
configs=()
for storage in ${storages//,/ }; do
  for crypto in ${cryptos//,/ }; do bench_config "$storage" "$crypto"; configs+=("$storage/$crypto"); done
done

echo "talos bench: duration=$duration connections=$connections threads=$threads (wrk on loopback, release build)"
printf '%-20s %-16s %12s %10s %8s\n' config endpoint "requests/s" p99 "÷alive"
for c in "${configs[@]}"; do
  for name in alive verify verify_half_load verify_no_cache verify_rl_memory verify_rl_postgres issue verify_jwt_eddsa \
    verify_jwt_rs256 verify_macaroon verify_imported; do
    [ -n "${rps[$c $name]:-}" ] || continue
    printf '%-20s %-16s %12s %10s %8s\n' "$c" "$name" "${rps[$c $name]}" "${p99[$c $name]}" \
      "$(awk -v a="${rps[$c $name]}" -v b="${rps[$c alive]}" 'BEGIN {printf "%.2f", a / b}')"
  done
  echo "$c peak RSS: ${rss[$c]}"
done
echo "(verify = cached (HIT), verify_no_cache = Cache-Control: no-cache, verify_rl_* = a key with a rate-limit policy,"
echo " verify_half_load = cached verify offered half its saturation rate: its p99 is the latency target)"
echo
echo "crypto primitives (ns/op, best of 5):"
.build/release/talos-crypto-bench
echo
echo "verification cache memory (1 000 000 keys through a 100 MiB cache):"
.build/release/talos-cache-bench
