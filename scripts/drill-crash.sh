#!/usr/bin/env bash
# Crash drill (hardening): `kill -9` of `talos serve` in the middle of a storm of issue requests, then a restart on
# the same database. Every key whose issue request was acknowledged (201 with a complete body) must exist after the
# restart (GET → 200) and its secret must verify (is_valid:true). SQLite first; then PostgreSQL when a DSN is given
# (a fresh database, `talos migrate up` first).
#   scripts/drill-crash.sh BINARY [POSTGRES_DSN]
# Environment: DRILL_STORM_THREADS (default 16) concurrent clients.
set -euo pipefail
binary=$(realpath "$1")
dsn=${2:-}
work=$(mktemp -d)
failed=0
. "$(dirname "$0")/lib.sh"
server=""
pg_db=""
cleanup() {
  [ -z "$server" ] || kill -9 "$server" 2>/dev/null || true
  if [ -n "$pg_db" ]; then psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export TALOS_SECRETS_HMAC_CURRENT="crash-drill-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://crash-drill.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn

# The load generator and the checker: stdlib only, one persistent http.client connection per thread.
cat >"$work/drill.py" <<'PY'
import http.client, json, os, random, signal, sys, threading, time

def connect(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def storm(port, pid, out):
    threads = int(os.environ.get("DRILL_STORM_THREADS", "16"))
    storm_seconds = random.uniform(1.0, 2.0)
    lock = threading.Lock()
    killed = threading.Event()
    state = {"sent": 0, "in_flight": 0, "errors_before_kill": 0, "errors_after_kill": 0, "incomplete_2xx": 0}
    statuses = {}
    acknowledged = []
    body = json.dumps({"name": "n", "actor_id": "a"})

    def worker():
        conn = connect(port)
        while True:
            with lock:
                state["sent"] += 1
                state["in_flight"] += 1
            try:
                conn.request("POST", "/v2alpha1/admin/issuedApiKeys", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except Exception:
                with lock:
                    state["in_flight"] -= 1
                    state["errors_after_kill" if killed.is_set() else "errors_before_kill"] += 1
                if killed.is_set():
                    return
                conn.close()
                time.sleep(0.01)
                conn = connect(port)
                continue
            with lock:
                state["in_flight"] -= 1
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    try:
                        document = json.loads(data)
                        acknowledged.append([document["issued_api_key"]["key_id"], document["secret"]])
                    except Exception:
                        state["incomplete_2xx"] += 1
            if killed.is_set():
                return

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    time.sleep(storm_seconds)
    with lock:
        in_flight = state["in_flight"]
        acknowledged_before = len(acknowledged)
    os.kill(pid, signal.SIGKILL)  # mid-flight: the workers are still sending
    killed.set()
    for thread in workers:
        thread.join(15)
    result = dict(state, storm_seconds=round(storm_seconds, 3), in_flight_at_kill=in_flight,
                  acknowledged_before_kill=acknowledged_before, statuses={str(k): v for k, v in sorted(statuses.items())},
                  acknowledged=acknowledged)
    with open(out, "w") as handle:
        json.dump(result, handle)
    print(f"  storm: {storm_seconds:.2f}s, {threads} clients, {state['sent']} requests sent, statuses {result['statuses']}, "
          f"{in_flight} in flight at kill -9, {len(acknowledged)} acknowledged "
          f"({len(acknowledged) - acknowledged_before} of them read after the kill), "
          f"{state['errors_before_kill']} transport errors before the kill")
    if state["incomplete_2xx"]:
        print(f"  warning: {state['incomplete_2xx']} 201 responses without key_id/secret")

def check(port, infile):
    with open(infile) as handle:
        storm_result = json.load(handle)
    keys = storm_result["acknowledged"]
    lock = threading.Lock()
    lost = []
    verified = [0]
    queue = list(keys)

    def worker():
        conn = connect(port)
        while True:
            with lock:
                if not queue:
                    return
                key_id, secret = queue.pop()
            problem = None
            try:
                conn.request("GET", f"/v2alpha1/admin/issuedApiKeys/{key_id}")
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    problem = f"GET → {response.status} {data[:200]!r}"
                else:
                    conn.request("POST", "/v2alpha1/admin/apiKeys:verify", json.dumps({"credential": secret}),
                                 {"Content-Type": "application/json", "Cache-Control": "no-cache"})
                    response = conn.getresponse()
                    data = response.read()
                    if response.status != 200 or json.loads(data).get("is_valid") is not True:
                        problem = f"verify → {response.status} {data[:200]!r}"
            except Exception as error:
                problem = f"transport error {error!r}"
                conn.close()
                conn = connect(port)
            with lock:
                if problem:
                    lost.append((key_id, problem))
                else:
                    verified[0] += 1

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    print(f"  after restart: acknowledged {len(keys)}, verified {verified[0]}, lost {len(lost)}")
    for key_id, problem in lost[:20]:
        print(f"    lost {key_id}: {problem}")
    if len(keys) == 0:
        print("  FAIL: no issue request was acknowledged before the kill")
        return 1
    return 1 if lost else 0

if __name__ == "__main__":
    if sys.argv[1] == "storm":
        storm(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(check(int(sys.argv[2]), sys.argv[3]))
PY

start_server() { # name port; waits for /health/alive; sets $server
  TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >>"$work/$1.log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$2/health/alive" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "  server did not start:"; tail -20 "$work/$1.log"; return 1
}

drill() { # name — uses TALOS_DB_DSN
  local name=$1 port
  port=$(free_port)
  export TALOS_SERVE_HTTP_PORT=$port
  echo "crash drill on $name"
  if ! start_server "$name" "$port"; then failed=$((failed + 1)); echo "FAIL - crash drill on $name"; return; fi
  # The storm kills the server itself; its "Killed" job notice is silenced (stderr of the storm stays on fd 3).
  { python3 "$work/drill.py" storm "$port" "$server" "$work/$name.json" 2>&3; wait "$server"; } 3>&2 2>/dev/null || true
  server=""
  if ! start_server "$name" "$port"; then failed=$((failed + 1)); echo "FAIL - crash drill on $name (no restart)"; return; fi
  if python3 "$work/drill.py" check "$port" "$work/$name.json"; then
    echo "ok   - crash drill on $name"
  else
    failed=$((failed + 1)); echo "FAIL - crash drill on $name"
  fi
  kill -TERM "$server"; wait "$server" 2>/dev/null || true
  server=""
}

export TALOS_DB_DSN="sqlite://$work/talos.db"
drill sqlite

if [ -n "$dsn" ]; then
  pg_db="talos_drill_crash_$$"
  base=${dsn%%\?*}; query=${dsn#*\?}; [ "$query" != "$dsn" ] || query=""
  pg_admin="${base%/*}/postgres"
  PGOPTIONS="-c client_min_messages=warning" psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
  export TALOS_DB_DSN="${base%/*}/$pg_db${query:+?$query}"
  "$binary" migrate up >/dev/null
  drill postgres
fi

echo "drill-crash: $failed failed"
test "$failed" = 0
