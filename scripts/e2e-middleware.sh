#!/usr/bin/env bash
# TalosHummingbird end to end (issue #11): the example service (Examples/ProtectedService) in front of two Talos
# replicas on one PostgreSQL. It verifies keys through replica A and follows the revocation feed of replica B
# through a TCP proxy that the test can kill:
#   - a key revoked on A is refused by the service (which had it cached) within 1 s, over 20 revocations;
#   - scopes are enforced (403 in the envelope), derived JWTs are verified offline (JWK Set of A), a key restricted
#     to a CIDR is checked against the caller's address (forwarded in X-Real-IP), cached per address;
#   - with the feed connection killed the service trusts no cached identity (a control service without the feed
#     keeps serving a revoked key from its cache), and trusts its cache again once resubscribed;
#   - replica B's LISTEN connection lost (its database connections run through a second proxy, killed): a key
#     revoked on A in the gap, whose NOTIFY B never receives, is refused by the service within 1 s of B listening
#     again (spec §16.15: the restore resets every subscriber);
#   - a replica with a subscriber drains at once on SIGTERM (the feed ends with graceful shutdown);
#   - the service's Prometheus metrics (talos_auth_*) pass promtool and count what happened.
# With E2E_ADMIN_AUTH=1 all of it runs with serve.admin.auth.enabled: the harness holds a '*' admin key, the services
# one with only keys.verify, keys.read and revocations.watch (spec §16.3).
#   scripts/e2e-middleware.sh TALOS_BINARY SERVICE_BINARY DSN
set -euo pipefail
binary=$(realpath "$1")
service=$(realpath "$2")
dsn=$3
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

db="talos_middleware_$$"
TALOS_DB_DSN=$(fresh_database "$dsn" "$db")
export TALOS_DB_DSN
export TALOS_SECRETS_HMAC_CURRENT="middleware-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://middleware.example.com"
export TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS=$("$binary" jwk generate eddsa --kid ed --base64)
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
export TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_CACHE_TTL=5m
export TALOS_SERVE_HTTP_CLIENT_IP_SOURCE=CLIENT_IP_SOURCE_X_REAL_IP TALOS_SERVE_HTTP_TRUSTED_PROXIES=127.0.0.1/32
"$binary" migrate up >/dev/null
service_auth=()
if [ "${E2E_ADMIN_AUTH:-0}" = 1 ]; then
  export TALOS_SERVE_ADMIN_AUTH_ENABLED=true
  TALOS_ADMIN_KEY=$("$binary" admin-keys create harness --permissions '*' -q)
  export TALOS_ADMIN_KEY
  service_auth=(--admin-key "$("$binary" admin-keys create service --permissions keys.verify,keys.read,revocations.watch -q)")
fi

wait_for() { # url log
  for _ in $(seq 1 150); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "no answer from $1:"; cat "$2"; return 1
}
start_talos() { # name port [VAR=value…]
  local metrics; metrics=$(free_port)
  env TALOS_SERVE_HTTP_PORT="$2" TALOS_SERVE_METRICS_PORT="$metrics" "${@:3}" "$binary" serve >"$work/$1.log" 2>&1 &
  pids+=($!); eval "pid_$1=$! metrics_$1=$metrics"
  wait_for "http://127.0.0.1:$2/health/alive" "$work/$1.log"
}
cat >"$work/proxy.py" <<'PY'
# A TCP proxy: killing it cuts every connection through it.
import socket, sys, threading
listen, target = int(sys.argv[1]), int(sys.argv[2])
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen)); server.listen(16)
def pipe(src, dst):
    try:
        while (data := src.recv(65536)):
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
while True:
    client, _ = server.accept()
    try:
        upstream = socket.create_connection(("127.0.0.1", target))
    except OSError:
        client.close()
        continue
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
PY
start_proxy() { # listen_port target_port
  python3 "$work/proxy.py" "$1" "$2" >>"$work/proxy.log" 2>&1 &
  proxy_pid=$!; pids+=($proxy_pid)
  for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $1))" 2>/dev/null && return 0; sleep 0.1; done
}
start_service() { # name port extra-args...
  local name=$1 port=$2; shift 2
  "$service" --talos "http://127.0.0.1:$port_a" --issuer "$TALOS_CREDENTIALS_ISSUER" --cache-ttl 300 --port "$port" \
    "${service_auth[@]}" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/health" "$work/$name.log"
}

port_a=$(free_port); port_b=$(free_port); port_proxy=$(free_port); port_app=$(free_port); port_control=$(free_port)
port_db_proxy=$(free_port)
# Replica B reaches PostgreSQL through a proxy of its own, so that the test can cut its LISTEN connection.
read -r dsn_b pg_port < <(python3 -c "
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); user = p.netloc.rsplit('@', 1)[0] + '@' if '@' in p.netloc else ''
print(p._replace(netloc=f'{user}127.0.0.1:{sys.argv[2]}').geturl(), p.port or 5432)" "$TALOS_DB_DSN" "$port_db_proxy")
start_proxy "$port_db_proxy" "$pg_port"
db_proxy_pid=$proxy_pid
start_talos a "$port_a"; start_talos b "$port_b" TALOS_DB_DSN="$dsn_b"
start_proxy "$port_proxy" "$port_b"
start_service app "$port_app" --feed "http://127.0.0.1:$port_proxy" --client-address-header X-Real-IP
start_service control "$port_control" --no-revocation-feed
# A raw subscriber of A's feed for the wire format (spec §15.14): event fields, data shape, the 15 s keep-alive.
python3 - "$port_a" >"$work/sse.txt" <<'PY' &
import http.client, json, re, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
import os
auth = {"Authorization": f"Bearer {os.environ['TALOS_ADMIN_KEY']}"} if os.environ.get("TALOS_ADMIN_KEY") else {}
conn.request("GET", "/v2alpha1/admin/revocations:watch", headers={"Accept": "text/event-stream", **auth})
r = conn.getresponse()
started, lines, keepalive = time.monotonic(), [], None
while time.monotonic() - started < 18:
    line = r.readline().decode()
    if not line: break
    lines.append(line.rstrip("\n"))
    if line.startswith(": keep-alive"):
        keepalive = time.monotonic() - started
        break
events, block = [], {}
for line in lines:
    if not line:
        if block.get("event") == "revoked": events.append(block)
        block = {}
    elif not line.startswith(":"):
        name, _, value = line.partition(": ")
        block[name] = value
shape = all(re.fullmatch(r"[0-9]+", e.get("id", "")) and set(json.loads(e["data"])) == {"key_id", "type", "time"}
            and json.loads(e["data"])["type"] == "issued"
            and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", json.loads(e["data"])["time"]) for e in events)
ids = [int(e["id"]) for e in events]
print(f"sse type={r.getheader('Content-Type')} events={len(events)} shape={shape and bool(events)} "
      f"increasing={ids == sorted(set(ids))} keepalive_s={keepalive if keepalive is None else round(keepalive, 1)}")
PY
sse_pid=$!; pids+=($sse_pid)

python3 -u - "$port_a" "$port_b" "$port_app" "$port_control" "$port_proxy" "$work/proxy.py" "$port_db_proxy" "$pg_port" \
  "$metrics_b" "$db_proxy_pid" >"$work/result.txt" <<'PY'
import http.client, json, os, signal, subprocess, sys, time
port_a, port_b, port_app, port_control, port_proxy = map(int, sys.argv[1:6])
proxy_script = sys.argv[6]
port_db_proxy, pg_port, metrics_b, db_proxy_pid = map(int, sys.argv[7:11])
TALOS_AUTH = {"Authorization": f"Bearer {os.environ['TALOS_ADMIN_KEY']}"} if os.environ.get("TALOS_ADMIN_KEY") else {}
def call(port, method, path, body=None, headers=None, source="127.0.0.1"):
    # Talos's own ports get the admin key (when admin auth is on); the service's get only the caller's headers.
    if port in (port_a, port_b):
        headers = {**TALOS_AUTH, **(headers or {})}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request(method, path, json.dumps(body) if body is not None else None, headers or {})
    r = conn.getresponse(); data = r.read(); conn.close()
    return r.status, (json.loads(data) if data else None)
def issue(scopes=("read:*",)):
    _, j = call(port_a, "POST", "/v2alpha1/admin/issuedApiKeys", {"name": "m", "actor_id": "svc-user", "scopes": list(scopes)})
    return j["issued_api_key"]["key_id"], j["secret"]
def revoke(key_id):
    call(port_a, "POST", f"/v2alpha1/admin/apiKeys/{key_id}:revoke", {"reason": "REVOCATION_REASON_KEY_COMPROMISE"})
def whoami(port, secret, path="/v1/whoami"):
    return call(port, "GET", path, headers={"Authorization": f"Bearer {secret}"})
def verified_by(port, secret):
    return whoami(port, secret)[1]["verified_by"]
def feed_connected():
    return call(port_app, "GET", "/talos-auth")[1]["feed_connected"]
def wait(predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate(): return True
        time.sleep(0.02)
    return predicate()
def refused_within(secret, seconds):
    revoked = time.monotonic()
    refused = wait(lambda: whoami(port_app, secret)[0] == 401, seconds)
    return refused, time.monotonic() - revoked

print(f"subscribed={wait(feed_connected, 10)}")

# 1. Revoked on A, refused by the service (subscribed through B) within 1 s, having been served from its cache.
delays, cached = [], 0
for _ in range(20):
    key_id, secret = issue()
    whoami(port_app, secret)
    cached += verified_by(port_app, secret) == "cache"
    revoke(key_id)
    refused, delay = refused_within(secret, 5)
    delays.append(delay if refused else 99.0)
delays.sort()
print(f"revocations={len(delays)} cached={cached} max_ms={delays[-1]*1000:.1f} p50_ms={delays[10]*1000:.1f}")

# 2. Scopes, the envelope, derived JWTs offline.
_, reader = issue()
_, writer = issue(["write"])
status, _ = whoami(port_app, reader, "/v1/orders")
denied, envelope = whoami(port_app, writer, "/v1/orders")
info = envelope["error"]["details"][0]
missing, missing_envelope = call(port_app, "GET", "/v1/whoami")
_, derived = call(port_b, "POST", "/v2alpha1/admin/apiKeys:derive", {"credential": reader, "algorithm": "TOKEN_ALGORITHM_JWT", "ttl": "5m"})
jwt_status, _ = whoami(port_app, derived["token"]["token"], "/v1/orders")
print(f"scopes reader={status} writer={denied} reason={info['reason']} scope={info['metadata']['scope']} "
      f"missing={missing} missing_reason={missing_envelope['error']['details'][0]['reason']} code={envelope['error']['code']}")
print(f"jwt status={jwt_status} verified_by={verified_by(port_app, derived['token']['token'])} "
      f"local={call(port_app, 'GET', '/talos-auth')[1]['local_jwt_verifications']}")

# 2b. A key restricted to 127.0.0.2: the service forwards each caller's address (X-Real-IP, which the replicas trust
#     from 127.0.0.1) and keeps cached answers per address.
_, j = call(port_a, "POST", "/v2alpha1/admin/issuedApiKeys", {"name": "ip", "actor_id": "svc-user", "scopes": ["read:*"],
                                                             "ip_restriction": {"allowed_cidrs": ["127.0.0.2/32"]}})
def from_address(source):
    status, body = call(port_app, "GET", "/v1/whoami", headers={"Authorization": f"Bearer {j['secret']}"}, source=source)
    return f"{status}:{body['verified_by'] if status == 200 else body['error']['details'][0]['metadata']['error_code']}"
allowed = [from_address("127.0.0.2") for _ in range(2)]
other = [from_address("127.0.0.1") for _ in range(2)]
print(f"ip allowed={','.join(allowed)} other={','.join(other)}")

# 3. The feed connection killed: nothing cached is trusted; a control service without the feed shows the cache would
#    have answered.
subprocess.run(["pkill", "-f", f"{proxy_script} {port_proxy} "], check=True)
lost = wait(lambda: not feed_connected(), 2)
key_id, secret = issue()
seen = [verified_by(port_app, secret) for _ in range(3)]
control = [verified_by(port_control, secret) for _ in range(2)]
revoke(key_id)
app_after = whoami(port_app, secret)[0]
control_status, control_body = whoami(port_control, secret)
print(f"feed_killed lost={lost} app={','.join(seen)} app_after_revoke={app_after} "
      f"control={','.join(control)} control_after_revoke={control_status}:{(control_body or {}).get('verified_by')}")

# 4. The feed back: resubscribed, the cache trusted again, revocations refused within 1 s.
proxy = subprocess.Popen([sys.executable, proxy_script, str(port_proxy), str(port_b)])
started = time.monotonic()
back = wait(feed_connected, 10)
resubscribed_ms = (time.monotonic() - started) * 1000
key_id, secret = issue()
seen = [verified_by(port_app, secret) for _ in range(2)]
revoke(key_id)
refused, delay = refused_within(secret, 5)
print(f"feed_back resubscribed={back} after_ms={resubscribed_ms:.0f} app={','.join(seen)} refused={refused} delay_ms={delay * 1000:.0f}")

# 5. B's LISTEN connection lost (its database proxy killed). The service keeps B's feed, gets a reset and caches
#    again; a key revoked on A now notifies nobody on B. When B listens again it must reset the service again.
def b_listening():
    try:
        conn = http.client.HTTPConnection("127.0.0.1", metrics_b, timeout=2)
        conn.request("GET", "/metrics"); text = conn.getresponse().read().decode(); conn.close()
    except OSError:
        return None
    return any(float(line.split()[-1]) == 1 for line in text.splitlines() if line.startswith("talos_cache_listener_up"))
key_id, secret = issue()
os.kill(db_proxy_pid, signal.SIGTERM)  # by pid: this script's own command line names the proxy too
down = wait(lambda: b_listening() is False, 5)
seen = [verified_by(port_app, secret) for _ in range(2)]
revoke(key_id)
time.sleep(0.3)
in_gap = verified_by(port_app, secret) if whoami(port_app, secret)[0] == 200 else "refused"
db_proxy = subprocess.Popen([sys.executable, proxy_script, str(port_db_proxy), str(pg_port)])
listening = wait(lambda: b_listening() is True, 10)
restored = time.monotonic()
refused = wait(lambda: whoami(port_app, secret)[0] == 401, 5)
delay = time.monotonic() - restored
print(f"listen_lost down={down} app={','.join(seen)} in_gap={in_gap} listening={listening} refused={refused} "
      f"after_restore_ms={delay * 1000:.0f}")
print(f"proxy_pid={proxy.pid} {db_proxy.pid}")
PY
cat "$work/result.txt"
pids+=($(sed -n 's/^proxy_pid=//p' "$work/result.txt"))
curl -s "http://127.0.0.1:$port_app/metrics" >"$work/metrics.txt"
wait "$sse_pid" || true
cat "$work/sse.txt"

# 6. Replica B drains at once although the service is subscribed to its feed.
drain_start=$(date +%s.%N)
kill -TERM "$pid_b"; wait "$pid_b" 2>/dev/null || true
drain_s=$(python3 -c "print(f'{$(date +%s.%N) - $drain_start:.2f}')")
echo "drain seconds=$drain_s" >>"$work/result.txt"
sleep 0.3
echo "app after B left: $(curl -s "http://127.0.0.1:$port_app/talos-auth")" >>"$work/result.txt"
tail -n 2 "$work/result.txt"

read -r _ cached max _ <<<"$(grep '^revocations=' "$work/result.txt" | sed -E 's/[a-z_0-9]+=//g')"
check "the service subscribed to the feed of replica B" grep -q '^subscribed=True' "$work/result.txt"
check "every key was served from the service's cache before its revocation" test "$cached" = 20
check "revocation on A refused by the service within 1 s (max ${max} ms over 20)" python3 -c "import sys; sys.exit(0 if float('$max') <= 1000 else 1)"
check "a missing scope is 403 SCOPE_REQUIRED in the envelope; a missing credential 401" \
  grep -q 'scopes reader=200 writer=403 reason=SCOPE_REQUIRED scope=read:\* missing=401 missing_reason=CREDENTIAL_REQUIRED code=403' "$work/result.txt"
check "a derived JWT is verified offline against the JWK Set" grep -qE '^jwt status=200 verified_by=jwks local=[1-9]' "$work/result.txt"
check "a key restricted to 127.0.0.2: served (then cached) for that caller only" \
  grep -q 'ip allowed=200:talos,200:cache other=401:VERIFICATION_ERROR_IP_NOT_ALLOWED,401:VERIFICATION_ERROR_IP_NOT_ALLOWED' "$work/result.txt"
check "feed killed: nothing cached is trusted, the revoked key is refused at once" \
  grep -q 'feed_killed lost=True app=talos,talos,talos app_after_revoke=401' "$work/result.txt"
check "control without the feed: its cache serves the revoked key (the cache is real)" \
  grep -q 'control=talos,cache control_after_revoke=200:cache' "$work/result.txt"
check "feed back: resubscribed, cache trusted again, revocations refused" \
  grep -qE 'feed_back resubscribed=True after_ms=[0-9]+ app=talos,cache refused=True' "$work/result.txt"
restore_ms=$(sed -nE 's/^listen_lost .* after_restore_ms=([0-9]+)$/\1/p' "$work/result.txt")
check "B's LISTEN connection cut: the key revoked in the gap is still served from the service's cache (the gap is real)" \
  grep -qE '^listen_lost down=True app=talos,cache in_gap=cache listening=True' "$work/result.txt"
check "… and refused within 1 s of B listening again (${restore_ms:-never} ms)" \
  bash -c "grep -q '^listen_lost .* refused=True ' '$work/result.txt' && test '${restore_ms:-99999}' -le 1000"
check "a replica with a feed subscriber drains within 3 s of SIGTERM" \
  python3 -c "import sys; sys.exit(0 if float('$drain_s') < 3 else 1)"
check "the service notices B leaving and stops trusting its cache" grep -q '"feed_connected":false' "$work/result.txt"
check "the service's Prometheus metrics pass promtool check metrics" bash -c "promtool check metrics <'$work/metrics.txt'"
check "metrics: cache hits, Talos and JWK Set verifications, refusals, 21 feed evictions, the feed connected" python3 - "$work/metrics.txt" <<'PY'
import re, sys
values = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip(): continue
    name, value = line.rsplit(" ", 1)
    values[re.sub(r'(\w+)="([^"]*)"', r'\1=\2', name)] = float(value)
def v(name): return values.get(name, -1)
ok = (v("talos_auth_verifications_total{via=cache,result=valid}") >= 21
      and v("talos_auth_verifications_total{via=talos,result=valid}") >= 21
      and v("talos_auth_verifications_total{via=jwks,result=valid}") == 2
      and v("talos_auth_verifications_total{via=talos,result=invalid}") >= 20
      and v("talos_auth_revocation_feed_evictions_total") == 21
      and v("talos_auth_revocation_feed_connections_total") == 2
      and v("talos_auth_revocation_feed_connected") == 1
      and v("talos_auth_jwks_reads_total{result=success}") >= 1)
sys.exit(0 if ok else print(values) or 1)
PY
check "the feed's wire format: text/event-stream, numeric increasing ids, data {key_id,type,time}, keep-alive within 15 s" \
  grep -qE '^sse type=text/event-stream events=[1-9][0-9]* shape=True increasing=True keepalive_s=1[45]\.[0-9]' "$work/sse.txt"
check "no 500 in any Talos log" bash -c "! grep -h '\"status\":\"500\"' '$work'/a.log '$work'/b.log"
echo "e2e-middleware${E2E_ADMIN_AUTH:+ (admin auth ${E2E_ADMIN_AUTH})}: $passed passed, $failed failed"
test "$failed" = 0
