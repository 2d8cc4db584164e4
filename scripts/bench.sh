#!/usr/bin/env bash
# Throughput and tail latency of the real release binary on loopback, measured with wrk.
# Prints requests/s and p99 per endpoint, each also as a ratio of GET /health/alive from the same run.
#   scripts/bench.sh [--duration 10s] [--connections 32] [--threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=10s connections=32 threads=2
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
swift build -c release --product talos >/dev/null
binary=$(realpath .build/release/talos)
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
(cd "$work" && TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_LOG_LEVEL=error \
  exec "$binary" serve --dev) >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$url/health/alive" >/dev/null 2>&1 && break; sleep 0.1; done

secret=$(curl -sf -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"bench","actor_id":"bench","scopes":["read"]}' | jq -r .secret)
lua() { # file, method, body, extra header line
  cat >"$work/$1" <<LUA
wrk.method = "$2"
wrk.body = '$3'
wrk.headers["Content-Type"] = "application/json"
$4
LUA
}
lua verify.lua POST "{\"credential\":\"$secret\"}" ''
lua verify-nocache.lua POST "{\"credential\":\"$secret\"}" 'wrk.headers["Cache-Control"] = "no-cache"'
lua issue.lua POST '{"name":"bench","actor_id":"bench","scopes":["read"],"ttl":"1h"}' ''

declare -A rps p99
run() { # name, path, [script]
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency ${3:+-s "$work/$3"} "$url$2")
  rps[$1]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99[$1]=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx or 3xx responses/ {print $NF}' <<<"$out")
  [ -z "$errors" ] || echo "warning: $1 had $errors non-2xx responses" >&2
}
run alive /health/alive
run verify /v2alpha1/admin/apiKeys:verify verify.lua
run verify_no_cache /v2alpha1/admin/apiKeys:verify verify-nocache.lua
run issue /v2alpha1/admin/issuedApiKeys issue.lua
rss=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$server/status")

echo "talos bench: storage=sqlite crypto=openssl duration=$duration connections=$connections threads=$threads"
printf '%-22s %12s %10s %8s\n' endpoint "requests/s" p99 ratio
for name in alive verify verify_no_cache issue; do
  printf '%-22s %12s %10s %8s\n' "$name" "${rps[$name]}" "${p99[$name]}" \
    "$(awk -v a="${rps[$name]}" -v b="${rps[alive]}" 'BEGIN {printf "%.2f", a / b}')"
done
echo "server peak RSS: $rss"
