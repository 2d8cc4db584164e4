#!/usr/bin/env bash
# Fault drill (hardening): PostgreSQL is stopped and started again (scripts/postgres.sh stop/start PG_PORT) under a
# continuous verify load. While it is down, /health/ready answers 503 and every verify answers 503 (never 500, never
# a hang: every request completes within 6 s; the server's database deadline is 5 s). After PostgreSQL accepts
# connections again the same server process is ready (ready 200 and a verify valid) within 5 s, and every request
# started after that recovers. Prints the measured times.
#   scripts/drill-pg-outage.sh BINARY POSTGRES_DSN PG_PORT
# Environment: DRILL_OUTAGE_SECONDS (default 6) how long PostgreSQL stays down; DRILL_VERIFY_THREADS (default 8).
set -euo pipefail
binary=$(realpath "$1")
dsn=$2
pg_port=$3
scripts=$(realpath "$(dirname "$0")")
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server=""
pg_db="talos_drill_outage_$$"
base=${dsn%%\?*}; query=${dsn#*\?}; [ "$query" != "$dsn" ] || query=""
pg_admin="${base%/*}/postgres"
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  # Leave PostgreSQL running whatever happened, and drop the drill's database.
  "$scripts/postgres.sh" start "$pg_port" >/dev/null 2>&1 || true
  psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
export TALOS_DB_DSN="${base%/*}/$pg_db${query:+?$query}"
export TALOS_SECRETS_HMAC_CURRENT="outage-drill-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://outage-drill.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
"$binary" migrate up >/dev/null
port=$(free_port)
TALOS_SERVE_HTTP_PORT=$port "$binary" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/alive" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "server not ready:"; tail -20 "$work/server.log"; exit 1; }

cat >"$work/outage.py" <<'PY'
import http.client, json, os, shutil, subprocess, sys, threading, time, glob

port, pg_port, scripts = int(sys.argv[1]), sys.argv[2], sys.argv[3]
outage = float(os.environ.get("DRILL_OUTAGE_SECONDS", "6"))
verify_threads = int(os.environ.get("DRILL_VERIFY_THREADS", "8"))
HANG = 6.0  # every request must complete within this (the server's deadline is 5 s)
RECOVERY = 5.0  # ready and verifying again within this after PostgreSQL accepts connections
now = time.monotonic

def connect():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

# Keys to verify, issued while the database is up.
conn = connect()
secrets = []
for i in range(16):
    conn.request("POST", "/v2alpha1/admin/issuedApiKeys", json.dumps({"name": "outage", "actor_id": f"drill{i}"}),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    assert response.status == 201, (response.status, data)
    secrets.append(json.loads(data)["secret"])
conn.close()

records = []  # (kind, t0, t1, status or None, valid, detail)
lock = threading.Lock()
stop = threading.Event()

def record(kind, t0, status, valid, detail):
    with lock:
        records.append((kind, t0, now(), status, valid, detail))

def verifier(index):
    conn = connect()
    n = index
    while not stop.is_set():
        secret = secrets[n % len(secrets)]
        n += 1
        t0 = now()
        try:
            conn.request("POST", "/v2alpha1/admin/apiKeys:verify", json.dumps({"credential": secret}),
                         {"Content-Type": "application/json", "Cache-Control": "no-cache"})
            response = conn.getresponse()
            data = response.read()
        except Exception as error:
            record("verify", t0, None, False, f"transport error {error!r}")
            conn.close()
            conn = connect()
            time.sleep(0.01)
            continue
        valid, detail = False, ""
        try:
            document = json.loads(data)
            if response.status == 200:
                valid = document.get("is_valid") is True
                detail = "" if valid else f"is_valid false: {data[:200]!r}"
            else:
                error = document["error"]
                detail = f'{error["status"]}/{error["details"][0]["reason"]}'
        except Exception:
            detail = f"unparsable body {data[:200]!r}"
        record("verify", t0, response.status, valid, detail)

def ready_poller():
    conn = connect()
    while not stop.is_set():
        t0 = now()
        try:
            conn.request("GET", "/health/ready")
            response = conn.getresponse()
            data = response.read()
            record("ready", t0, response.status, response.status == 200, data[:200].decode("utf-8", "replace"))
        except Exception as error:
            record("ready", t0, None, False, f"transport error {error!r}")
            conn.close()
            conn = connect()
        time.sleep(0.05)

pg_isready = (sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_isready")) or [shutil.which("pg_isready")])[-1]
def accepting():
    if not pg_isready:
        return False
    return subprocess.run([pg_isready, "-q", "-h", "127.0.0.1", "-p", pg_port, "-t", "1"]).returncode == 0

threads = [threading.Thread(target=verifier, args=(i,), daemon=True) for i in range(verify_threads)]
threads.append(threading.Thread(target=ready_poller, daemon=True))
t_begin = now()
for thread in threads:
    thread.start()
time.sleep(2.0)

t_stop_begin = now()
subprocess.run([f"{scripts}/postgres.sh", "stop", pg_port], check=True)
t_down = now()  # pg_ctl stop waits until the server is gone
time.sleep(outage)

t_start_begin = now()
up = {}
def watch_up():
    while "t" not in up and now() - t_start_begin < 60:
        if accepting():
            up["t"] = now()
            return
        time.sleep(0.02)
watcher = threading.Thread(target=watch_up, daemon=True)
watcher.start()
subprocess.run([f"{scripts}/postgres.sh", "start", pg_port], check=True, stdout=subprocess.DEVNULL)
t_start_done = now()
watcher.join(5)
t_up = up.get("t", t_start_done)

# Wait for recovery (at most 15 s), then keep the load 2 s more.
def first(kind, ok, after):
    with lock:
        ends = [r[2] for r in records if r[0] == kind and r[2] >= after and ok(r)]
    return min(ends) if ends else None
deadline = t_up + 15
while now() < deadline:
    ready_at = first("ready", lambda r: r[3] == 200, t_up)
    verify_at = first("verify", lambda r: r[4], t_up)
    if ready_at and verify_at:
        break
    time.sleep(0.05)
time.sleep(2.0)
stop.set()
for thread in threads:
    thread.join(35)
t_end = now()

failures = []
def fail(message):
    failures.append(message)

def phase(t0, t1):
    return "baseline" if t1 <= t_stop_begin else ("down" if t0 >= t_down and t1 <= t_start_begin else
            ("recovered" if recovered_at is not None and t0 >= recovered_at else "transition"))

ready_at = first("ready", lambda r: r[3] == 200, t_up)
verify_at = first("verify", lambda r: r[4], t_up)
recovered_at = max(ready_at, verify_at) if ready_at and verify_at else None
by_phase = {}
slowest = {}
first_503 = None
for kind, t0, t1, status, valid, detail in records:
    p = phase(t0, t1)
    key = (p, kind, status)
    by_phase[key] = by_phase.get(key, 0) + 1
    slowest[(p, kind)] = max(slowest.get((p, kind), 0), t1 - t0)
    if t1 - t0 > HANG:
        fail(f"{kind} took {t1 - t0:.2f}s (> {HANG}s) in phase {p}: {status} {detail}")
    if status is None:
        fail(f"{kind} got no response in phase {p}: {detail}")
    elif status >= 500 and status != 503:
        fail(f"{kind} answered {status} in phase {p}: {detail}")
    if p == "baseline" and not valid:
        fail(f"{kind} failed before the outage: {status} {detail}")
    if p == "down":
        if status != 503:
            fail(f"{kind} answered {status} while PostgreSQL was down (expected 503): {detail}")
        elif kind == "verify" and detail != "UNAVAILABLE/SERVICE_UNAVAILABLE":
            fail(f"verify 503 while down is not the SERVICE_UNAVAILABLE envelope: {detail}")
    if p == "recovered" and not valid:
        fail(f"{kind} failed after recovery: {status} {detail}")
    if kind == "verify" and status == 503 and t0 >= t_stop_begin and (first_503 is None or t1 < first_503):
        first_503 = t1

down_verifies = sum(v for (p, k, s), v in by_phase.items() if p == "down" and k == "verify")
down_ready = sum(v for (p, k, s), v in by_phase.items() if p == "down" and k == "ready")
if down_verifies == 0 or down_ready == 0:
    fail(f"no request completed entirely while PostgreSQL was down (verify {down_verifies}, ready {down_ready})")
if ready_at is None or ready_at - t_up > RECOVERY:
    fail(f"ready not 200 within {RECOVERY}s of PostgreSQL accepting connections"
         + (f" (took {ready_at - t_up:.2f}s)" if ready_at else " (never)"))
if verify_at is None or verify_at - t_up > RECOVERY:
    fail(f"no valid verify within {RECOVERY}s of PostgreSQL accepting connections"
         + (f" (took {verify_at - t_up:.2f}s)" if verify_at else " (never)"))

print(f"  load: {verify_threads} verify clients + a ready poller, {len(records)} requests in {t_end - t_begin:.1f}s")
print(f"  postgres stop took {t_down - t_stop_begin:.2f}s; down for {t_start_begin - t_down:.2f}s; "
      f"start → accepting connections {t_up - t_start_begin:.2f}s" + ("" if up else " (pg_isready unavailable: start's return)"))
if first_503 is not None:
    print(f"  first verify 503 {first_503 - t_stop_begin:.3f}s after the stop began")
for p in ("baseline", "transition", "down", "recovered"):
    counts = {f"{k} {s}": v for (q, k, s), v in sorted(by_phase.items(), key=lambda x: (x[0][0], x[0][1], x[0][2] or 0)) if q == p}
    worst = {k: round(v, 3) for (q, k), v in slowest.items() if q == p}
    print(f"  {p:<10}: {counts}  slowest (s): {worst}")
print(f"  recovery after PostgreSQL accepted connections: ready 200 in "
      + (f"{ready_at - t_up:.3f}s" if ready_at else "never") + ", verify valid in "
      + (f"{verify_at - t_up:.3f}s" if verify_at else "never"))
unique = []
for message in failures:
    if message not in unique:
        unique.append(message)
for message in unique[:25]:
    print(f"  FAIL: {message}")
if len(unique) > 25:
    print(f"  … {len(unique) - 25} more distinct failures")
print(f"drill-pg-outage: {'FAILED' if failures else 'ok'} ({len(failures)} failing requests/checks)")
sys.exit(1 if failures else 0)
PY

status=0
python3 "$work/outage.py" "$port" "$pg_port" "$scripts" || status=$?
if grep -E '"status":"500"|unhandled error' "$work/server.log" >/dev/null 2>&1; then echo "  FAIL: a 500 or an unhandled error was logged"; status=1; fi
kill -TERM "$server"; wait "$server" 2>/dev/null || true
server=""
exit $status
