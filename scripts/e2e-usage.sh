#!/usr/bin/env bash
# Usage analytics end to end (docs/usage.md) on two replicas sharing one PostgreSQL, cache and cluster-wide rate
# limits on:
#   - N valid verifications of one key (half of them with Cache-Control: no-cache, the rest served from the cache),
#     M after its revocation, and a key with quota Q verified Q + K times, spread over both replicas; after a graceful
#     stop of both (the flush interval is the default 10 s, so only the shutdown flush writes), a fresh replica reports
#     exactly N valid, M REVOKED, Q valid and K RATE_LIMITED, per key and summed per actor;
#   - `talos keys usage` prints the same counts (json) and a sparkline (table);
#   - kill -9 under steady load loses at most what was verified within one flush interval (the loss is printed).
#   scripts/e2e-usage.sh BINARY DSN
set -euo pipefail
binary=$(realpath "$1")
dsn=$2
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

db="talos_usage_$$"
TALOS_DB_DSN=$(fresh_database "$dsn" "$db")
export TALOS_DB_DSN
export TALOS_SECRETS_HMAC_CURRENT="usage-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://usage.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
export TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_CACHE_TTL=5m
export TALOS_RATE_LIMIT_ENABLED=true TALOS_RATE_LIMIT_BACKEND=postgres
"$binary" migrate up >/dev/null

start() { # name port → pid in $started
  local name=$1 port=$2
  TALOS_SERVE_HTTP_PORT="$port" TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >>"$work/$name.log" 2>&1 &
  started=$!
  pids+=("$started")
  wait_alive "http://127.0.0.1:$port" "$work/$name.log"
}
stop() { # pid: graceful, waits for the exit
  kill -TERM "$1"
  wait "$1" 2>/dev/null || true
}
port_a=$(free_port); port_b=$(free_port)
start a "$port_a"; pid_a=$started
start b "$port_b"; pid_b=$started
sleep 0.5  # both LISTEN connections up

N=40 M=7 Q=5 K=9
python3 - "$port_a" "$port_b" "$N" "$M" "$Q" "$K" >"$work/traffic.json" <<'PY'
import http.client, json, sys
port_a, port_b, N, M, Q, K = (int(v) for v in sys.argv[1:])
replicas = [http.client.HTTPConnection("127.0.0.1", p, timeout=10) for p in (port_a, port_b)]
def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, json.dumps(body) if body is not None else None, headers=headers or {})
    r = conn.getresponse(); data = r.read()
    return r.status, (json.loads(data) if data else None), r.getheader("Ory-Talos-Cache")
def issue(extra=None):
    body = {"name": "u", "actor_id": "usage-actor"}; body.update(extra or {})
    _, j, _ = call(replicas[0], "POST", "/v2alpha1/admin/issuedApiKeys", body)
    return j["issued_api_key"]["key_id"], j["secret"]
seen = {}
def verify(i, secret, no_cache=False):
    _, j, cache = call(replicas[i % 2], "POST", "/v2alpha1/admin/apiKeys:verify", {"credential": secret},
                       {"Cache-Control": "no-cache"} if no_cache else None)
    outcome = "VALID" if j["is_valid"] else j["error_code"].removeprefix("VERIFICATION_ERROR_")
    seen[outcome] = seen.get(outcome, 0) + 1
    return outcome, cache
key, secret = issue()
limited_key, limited = issue({"rate_limit_policy": {"quota": str(Q), "window": "3600s"}})
hits = 0
for i in range(N):
    outcome, cache = verify(i, secret, no_cache=i % 2 == 1)
    assert outcome == "VALID", outcome
    hits += cache == "HIT"
call(replicas[0], "POST", f"/v2alpha1/admin/apiKeys/{key}:revoke", {"reason": "REVOCATION_REASON_KEY_COMPROMISE"})
for i in range(M):
    assert verify(i, secret)[0] == "REVOKED"
outcomes = [verify(i, limited)[0] for i in range(Q + K)]
assert outcomes.count("VALID") == Q and outcomes.count("RATE_LIMITED") == K, outcomes
print(json.dumps({"key": key, "limited_key": limited_key, "cache_hits": hits, "seen": seen}))
PY
key=$(jq -r .key "$work/traffic.json"); limited_key=$(jq -r .limited_key "$work/traffic.json")
hits=$(jq -r .cache_hits "$work/traffic.json")
echo "sent: $N valid ($hits served from the cache), $M revoked, $Q valid + $K rate limited on a second key, over 2 replicas"
check "about half of the valid verifications came from the cache" test "$hits" -ge $((N / 2 - 2))

usage() { curl -sf "http://127.0.0.1:$1$2"; }
# Nothing is flushed yet (interval 10 s): the counts live only in the replicas' memory.
check "before the flush, nothing is stored" \
  bash -c "[ \"\$(curl -sf 'http://127.0.0.1:$port_a/v2alpha1/admin/apiKeys/$key/usage' | jq '.buckets | length')\" = 0 ]"
stop "$pid_a"; stop "$pid_b"
port_c=$(free_port)
start c "$port_c"; pid_c=$started
sum() { jq "[.buckets[] | $1 // \"0\" | tonumber] | add // 0"; }
key_usage=$(usage "$port_c" "/v2alpha1/admin/apiKeys/$key/usage")
limited_usage=$(usage "$port_c" "/v2alpha1/admin/apiKeys/$limited_key/usage?granularity=DAY")
actor_usage=$(usage "$port_c" "/v2alpha1/admin/usage?actor_id=usage-actor")
echo "key:     $key_usage"
echo "limited: $limited_usage"
echo "actor:   $actor_usage"
check "after a graceful stop: exactly N valid" test "$(sum .valid <<<"$key_usage")" = "$N"
check "after a graceful stop: exactly M revoked" test "$(sum .invalid.REVOKED <<<"$key_usage")" = "$M"
check "nothing else was counted for the first key" test "$(jq '[.buckets[].invalid | keys[]] | unique' <<<"$key_usage" | jq -c .)" = '["REVOKED"]'
check "the limited key: exactly Q valid" test "$(sum .valid <<<"$limited_usage")" = "$Q"
check "the limited key: exactly K rate limited" test "$(sum .invalid.RATE_LIMITED <<<"$limited_usage")" = "$K"
check "the actor sums both keys" test "$(sum .valid <<<"$actor_usage")/$(sum .invalid.REVOKED <<<"$actor_usage")/$(sum .invalid.RATE_LIMITED <<<"$actor_usage")" = "$((N + Q))/$M/$K"
check "the buckets are UTC hours and days" bash -c "jq -e '.buckets[0].start_time | test(\"T[0-9]{2}:00:00Z$\")' <<<'$key_usage' >/dev/null && jq -e '.buckets[0].start_time | test(\"T00:00:00Z$\")' <<<'$limited_usage' >/dev/null"
cli_json=$("$binary" keys usage "$key" -e "http://127.0.0.1:$port_c" --format json)
check "talos keys usage --format json answers the same" test "$(sum .valid <<<"$cli_json")" = "$N"
"$binary" keys usage "$key" -e "http://127.0.0.1:$port_c" --since 24h >"$work/cli.txt"
cat "$work/cli.txt"
check "talos keys usage prints totals and a one-line sparkline" bash -c "grep -q '^VALID *$N\$' '$work/cli.txt' && grep -q '^INVALID *$M (REVOKED $M)\$' '$work/cli.txt' && grep -qE '^USAGE +[·▁▂▃▄▅▆▇█]{24,25}\$' '$work/cli.txt'"
check "talos keys usage -q prints the total" test "$("$binary" keys usage --actor usage-actor -e "http://127.0.0.1:$port_c" -q)" = "$((N + M + Q + K))"
check "bad granularity is 400 with the envelope" bash -c "[ \"\$(curl -s 'http://127.0.0.1:$port_c/v2alpha1/admin/apiKeys/$key/usage?granularity=MONTH' | jq -r .error.status)\" = INVALID_ARGUMENT ]"
stop "$pid_c"

# kill -9 under steady load: what was verified within the last flush interval may be lost, nothing older.
interval=2
port_d=$(free_port)
TALOS_USAGE_FLUSH_INTERVAL=${interval}s start d "$port_d"; pid_d=$started
python3 - "$port_d" "$key" "$limited_key" >"$work/load.json" <<'PY' &
import http.client, json, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
conn.request("POST", "/v2alpha1/admin/issuedApiKeys", json.dumps({"name": "load", "actor_id": "load-actor"}))
issued = json.loads(conn.getresponse().read())
key, secret = issued["issued_api_key"]["key_id"], issued["secret"]
stamps = []
try:
    while True:
        conn.request("POST", "/v2alpha1/admin/apiKeys:verify", json.dumps({"credential": secret}))
        r = conn.getresponse(); r.read()
        if r.status == 200: stamps.append(time.time())
except Exception:
    pass
print(json.dumps({"key": key, "stamps": stamps}))
PY
loader=$!
sleep 7.3
kill -9 "$pid_d"; killed_at=$(python3 -c 'import time; print(time.time())')
wait "$pid_d" 2>/dev/null || true
wait "$loader" || true
port_e=$(free_port)
start e "$port_e"; pid_e=$started
load_key=$(jq -r .key "$work/load.json")
stored=$(usage "$port_e" "/v2alpha1/admin/apiKeys/$load_key/usage" | sum .valid)
read -r sent recent <<<"$(python3 -c '
import json, sys
stamps = json.load(open(sys.argv[1]))["stamps"]; killed = float(sys.argv[2]); interval = float(sys.argv[3])
print(len(stamps), sum(1 for s in stamps if s > killed - interval - 0.5))' "$work/load.json" "$killed_at" "$interval")"
lost=$((sent - stored))
echo "kill -9 after 7.3 s of load (flush interval ${interval}s): sent $sent valid verifications, stored $stored, lost $lost; $recent were verified within the last interval (+0.5 s)"
check "kill -9 loses at most the last flush interval" test "$lost" -le "$recent"
check "kill -9 loses nothing that was flushed (something was stored)" test "$stored" -gt 0
stop "$pid_e"

drop_database "$dsn" "$db"
echo "e2e-usage: $passed passed, $failed failed"
[ "$failed" = 0 ]
