#!/usr/bin/env bash
# The edge node (`talos proxy`, docs/edge.md) in front of two Talos replicas on one PostgreSQL, admin
# authentication on (the edge follows replica B's revocation feed with its own admin key):
#   - valid verify answers are cached (MISS, then HIT), per caller's admin key (no key: the upstream's 401, never a
#     cached answer), bypassed by Cache-Control: no-cache, and never past the key's expiry;
#   - a key revoked on replica A is refused at the edge within 1 s (max and p50 over 20 revocations, printed);
#   - with replica B down (its feed lost) nothing is served from the cache; caching resumes when it is back;
#   - 413 over 1 MiB, 403 for a host outside --allowed-hosts, /health/ready probes the upstream, forward auth through
#     the edge, talos_proxy_* metrics; and a bench: cached verify through the edge vs direct to Talos, same run.
#   scripts/e2e-edge.sh BINARY DSN
set -euo pipefail
binary=$(realpath "$1")
dsn=$2
root=$(realpath "$(dirname "$0")/..")
. "$root/scripts/lib.sh"
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

db="talos_edge_$$"
TALOS_DB_DSN=$(fresh_database "$dsn" "$db")
export TALOS_DB_DSN
export TALOS_SECRETS_HMAC_CURRENT="edge-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://edge.example.com" TALOS_LOG_LEVEL=warn
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_METRICS_HOST=127.0.0.1
export TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_SERVE_ADMIN_AUTH_ENABLED=true
"$binary" migrate up >/dev/null
ops=$("$binary" admin-keys create ops --permissions '*' -q)
other_ops=$("$binary" admin-keys create other --permissions keys.verify -q)
"$binary" admin-keys create edge --permissions revocations.watch -q >"$work/edge.key"

start_talos() { # name port
  TALOS_SERVE_HTTP_PORT=$2 TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >>"$work/$1.log" 2>&1 &
  started=$!
  pids+=("$started")
  wait_alive "http://127.0.0.1:$2" "$work/$1.log"
}
port_a=$(free_port); port_b=$(free_port); edge_port=$(free_port); edge_metrics=$(free_port)
start_talos a "$port_a"
start_talos b "$port_b"; pid_b=$started
"$binary" proxy --upstream "http://127.0.0.1:$port_b" --listen "127.0.0.1:$edge_port" \
  --metrics-listen "127.0.0.1:$edge_metrics" --cache-ttl 60s --admin-key-file "$work/edge.key" \
  --allowed-hosts 127.0.0.1,localhost >"$work/edge.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$edge_port" "$work/edge.log"
for _ in $(seq 1 50); do [ "$(grep -c "following the upstream" "$work/edge.log")" -ge 2 ] && break; sleep 0.1; done
check "the edge follows each allowed host's revocation feed" \
  test "$(grep -c "following the upstream" "$work/edge.log")" -ge 2

edge="http://127.0.0.1:$edge_port"
python3 - "$port_a" "$port_b" "$edge_port" "$ops" "$other_ops" >"$work/edge.json" <<'PY'
import http.client, json, sys, time
port_a, port_b, edge_port, ops, other = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
a = http.client.HTTPConnection("127.0.0.1", port_a, timeout=10)
e = http.client.HTTPConnection("127.0.0.1", edge_port, timeout=10)
def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, json.dumps(body) if body is not None else None, headers=headers or {})
    r = conn.getresponse(); data = r.read()
    return r.status, (json.loads(data) if data else None), r.getheader("Ory-Talos-Cache")
auth = {"Authorization": f"Bearer {ops}"}
def issue(extra=None):
    body = {"name": "edge", "actor_id": "edge"}; body.update(extra or {})
    _, j, _ = call(a, "POST", "/v2alpha1/admin/issuedApiKeys", body, auth)
    return j["issued_api_key"]["key_id"], j["secret"]
def verify(secret, headers=auth):
    return call(e, "POST", "/v2alpha1/admin/apiKeys:verify", {"credential": secret}, headers)
out = {}
key, secret = issue()
out["first_second"] = [verify(secret)[2], verify(secret)[2]]
out["other_admin_key"] = verify(secret, {"Authorization": f"Bearer {other}"})[2]
status, _, cache = verify(secret, {})
out["no_admin_key"] = [status, cache]
out["no_cache"] = verify(secret, {**auth, "Cache-Control": "no-cache"})[2]
# Revocation on A, refused at the edge (which follows B) within 1 s.
delays = []
for _ in range(20):
    key, secret = issue()
    verify(secret)
    assert verify(secret)[2] == "HIT"
    call(a, "POST", f"/v2alpha1/admin/apiKeys/{key}:revoke", {"reason": "REVOCATION_REASON_KEY_COMPROMISE"}, auth)
    committed = time.monotonic()
    while True:
        _, j, _ = verify(secret)
        if not j["is_valid"]:
            delays.append(time.monotonic() - committed); break
        if time.monotonic() - committed > 5:
            delays.append(99.0); break
delays.sort()
out["revocation_ms"] = {"max": round(delays[-1] * 1000, 1), "p50": round(delays[len(delays) // 2] * 1000, 1), "n": len(delays)}
# Never past the key's expiry.
_, short = issue({"ttl": "3s"})
out["short_first_second"] = [verify(short)[2], verify(short)[2]]
time.sleep(3.2)
_, j, cache = verify(short)
out["after_expiry"] = [j.get("error_code"), cache]
# Forward auth through the edge.
e.request("GET", "/v2alpha1/admin/apiKeys:authorize", headers={"Talos-Admin-Key": ops, "X-API-Key": issue()[1]})
r = e.getresponse(); r.read()
out["authorize"] = [r.status, bool(r.getheader("Talos-Key-Id"))]
print(json.dumps(out))
PY
cat "$work/edge.json"
r() { jq -c "$1" "$work/edge.json"; }
check "valid answers are cached: MISS, then HIT" test "$(r .first_second)" = '["MISS","HIT"]'
check "another caller's admin key is another cache entry (MISS)" test "$(r .other_admin_key)" = '"MISS"'
check "without an admin key: the upstream's 401, never a cached answer" test "$(r .no_admin_key)" = '[401,"MISS"]'
check "Cache-Control: no-cache bypasses the cache" test "$(r .no_cache)" = '"MISS"'
max=$(jq .revocation_ms.max "$work/edge.json")
echo "revocation on replica A → refused at the edge (following B): max $max ms, p50 $(jq .revocation_ms.p50 "$work/edge.json") ms over $(jq .revocation_ms.n "$work/edge.json")"
check "a revocation on replica A is refused at the edge within 1 s (max over 20)" python3 -c "import sys; sys.exit(0 if $max < 1000 else 1)"
check "a key with 3 s left is cached, but not past its expiry" \
  test "$(r .short_first_second)$(r .after_expiry)" = '["MISS","HIT"]["VERIFICATION_ERROR_EXPIRED","MISS"]'
check "forward auth through the edge" test "$(r .authorize)" = '[200,true]'
python3 -c "print('{\"credential\":\"' + 'x' * (1 << 20) + '\"}')" >"$work/big.json"
check "a body over 1 MiB is 413" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$edge/v2alpha1/admin/apiKeys:verify" --data-binary "@$work/big.json")" = 413
check "a host outside --allowed-hosts is 403" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.example' "$edge/v2alpha1/admin/issuedApiKeys")" = 403
check "/health/ready probes the upstream (200)" test "$(curl -s -o /dev/null -w '%{http_code}' "$edge/health/ready")" = 200
metrics=$(curl -s "http://127.0.0.1:$edge_metrics/metrics")
check "talos_proxy_* metrics: hits counted, the feed up" \
  bash -c "grep -q '^talos_proxy_requests_total{cache=\"hit\"} [1-9]' <<<\"\$1\" && grep -q '^talos_proxy_feed_up 1' <<<\"\$1\"" _ "$metrics"

# --trust-x-forwarded-host: the right-most X-Forwarded-Host is the host (and what the allowlist checks).
trusting_port=$(free_port)
"$binary" proxy --upstream "http://127.0.0.1:$port_b" --listen "127.0.0.1:$trusting_port" \
  --metrics-listen "127.0.0.1:$(free_port)" --admin-key-file "$work/edge.key" --allowed-hosts localhost \
  --trust-x-forwarded-host >"$work/trusting.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$trusting_port" "$work/trusting.log"
forwarded() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ops" -H "X-Forwarded-Host: $1" \
  "http://127.0.0.1:$trusting_port/v2alpha1/admin/issuedApiKeys?page_size=1"; }
check "--trust-x-forwarded-host: the right-most X-Forwarded-Host decides (allowed 200, a left-written one 403)" \
  test "$(forwarded 'evil.example, localhost'):$(forwarded 'localhost, evil.example')" = 200:403

# Replica B down: its feed is lost, so the edge serves nothing from its cache; back up, caching resumes.
secret=$(curl -s -H "Authorization: Bearer $ops" -X POST "http://127.0.0.1:$port_a/v2alpha1/admin/issuedApiKeys" -d '{"name":"e","actor_id":"e"}' | jq -r .secret)
verify_edge() { curl -s -D "$work/h" -o "$work/b" -w '%{http_code}' -H "Authorization: Bearer $ops" -X POST "$edge/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$secret\"}"; }
verify_edge >/dev/null; verify_edge >/dev/null
check "cached before the outage" grep -qi '^ory-talos-cache: HIT' "$work/h"
kill -TERM "$pid_b"; wait "$pid_b" 2>/dev/null || true
sleep 0.3
down=$(verify_edge)
check "with the upstream and its feed down, no cached answer is served (502)" \
  bash -c "[ '$down' = 502 ] && ! grep -qi '^ory-talos-cache: HIT' '$work/h'"
check "/health/ready is 503 while the upstream is down" test "$(curl -s -o /dev/null -w '%{http_code}' "$edge/health/ready")" = 503
start_talos b "$port_b"
for _ in $(seq 1 100); do [ "$(grep -c 'following the upstream' "$work/edge.log")" -ge 4 ] && break; sleep 0.1; done
verify_edge >/dev/null; verify_edge >/dev/null
check "the feed back: caching resumes (MISS, then HIT)" grep -qi '^ory-talos-cache: HIT' "$work/h"

# Bench: cached verify through the edge vs direct to Talos (its own cache), same run.
if command -v wrk >/dev/null; then
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n' \
    "'{\"credential\":\"$secret\"}'" "$ops" >"$work/v.lua"
  for target in "edge $edge" "direct http://127.0.0.1:$port_b"; do
    set -- $target
    out=$(wrk -t2 -c16 -d"${EDGE_BENCH_DURATION:-3s}" --latency -s "$work/v.lua" "$2/v2alpha1/admin/apiKeys:verify")
    echo "bench verify via $1: $(awk '/^Requests\/sec/ {print $2}' <<<"$out") req/s, p99 $(awk '$1 == "99%" {print $2}' <<<"$out")"
  done
fi
drop_database "$dsn" "$db"
echo "e2e-edge: $passed passed, $failed failed"
[ "$failed" = 0 ]
