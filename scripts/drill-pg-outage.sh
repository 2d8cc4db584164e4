#!/usr/bin/env bash
# Fault drill (hardening): PostgreSQL is stopped and started again (scripts/postgres.sh stop/start PG_PORT) under a
# continuous verify load. While it is down, /health/ready answers 503 and every verify answers 503 (never 500, never
# a hang: every request completes within 6 s; the server's database deadline is 5 s). After PostgreSQL accepts
# connections again the same server process is ready (ready 200 and a verify valid) within 5 s, and every request
# started after that recovers. Prints the measured times.
#   scripts/drill-pg-outage.sh BINARY POSTGRES_DSN PG_PORT
# Environment: DRILL_OUTAGE_SECONDS (default 12) how long PostgreSQL stays down; DRILL_OUTAGE_CYCLES (default 2)
# how many stop/start cycles; DRILL_VERIFY_THREADS (default 8).
set -euo pipefail
binary=$(realpath "$1")
dsn=$2
pg_port=$3
scripts=$(realpath "$(dirname "$0")")
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
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

PGOPTIONS="-c client_min_messages=warning" psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
export TALOS_DB_DSN="${base%/*}/$pg_db${query:+?$query}"
export TALOS_SECRETS_HMAC_CURRENT="outage-drill-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://outage-drill.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
"$binary" migrate up >/dev/null
port=$(free_port)
TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/server.log" 2>&1 &
server=$!
wait_alive "http://127.0.0.1:$port"
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "server not ready:"; tail -20 "$work/server.log"; exit 1; }

cat >"$work/outage.py" <<'PY'
import http.client, json, os, shutil, subprocess, sys, threading, time, glob

port, pg_port, scripts = int(sys.argv[1]), sys.argv[2], sys.argv[3]
outage = float(os.environ.get("DRILL_OUTAGE_SECONDS", "12"))
cycle_count = int(os.environ.get("DRILL_OUTAGE_CYCLES", "2"))
verify_threads = int(os.environ.get("DRILL_VERIFY_THREADS", "8"))
HANG = 6.0  # every request must complete within this (the server's deadline is 5 s)
RECOVERY = 5.0  # ready and verifying again within this after PostgreSQL accepts connections
TIMEOUT = 12.0  # the client gives up on a request after this (a hang)
now = time.monotonic

def connect():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

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

def first(kind, ok, after):
    with lock:
        ends = [r[2] for r in records if r[0] == kind and r[2] >= after and ok(r)]
    return min(ends) if ends else None

cycles = []  # per outage: stop_begin, down, start_begin, up, ready_at, verify_at, recovered_at, end
for cycle in range(cycle_count):
    time.sleep(2.0)  # load on a healthy database
    c = {"stop_begin": now()}
    subprocess.run([f"{scripts}/postgres.sh", "stop", pg_port], check=True)
    c["down"] = now()  # pg_ctl stop waits until the server is gone
    time.sleep(outage)
    c["start_begin"] = now()
    up = {}
    def watch_up():
        while "t" not in up and now() - c["start_begin"] < 60:
            if accepting():
                up["t"] = now()
                return
            time.sleep(0.02)
    watcher = threading.Thread(target=watch_up, daemon=True)
    watcher.start()
    subprocess.run([f"{scripts}/postgres.sh", "start", pg_port], check=True, stdout=subprocess.DEVNULL)
    start_done = now()
    watcher.join(5)
    c["up"] = up.get("t", start_done)
    c["pg_isready"] = "t" in up
    deadline = c["up"] + 15  # wait for recovery (at most 15 s)
    while now() < deadline:
        c["ready_at"] = first("ready", lambda r: r[3] == 200, c["up"])
        c["verify_at"] = first("verify", lambda r: r[4], c["up"])
        if c["ready_at"] and c["verify_at"]:
            break
        time.sleep(0.05)
    c["recovered_at"] = max(c["ready_at"], c["verify_at"]) if c["ready_at"] and c["verify_at"] else None
    cycles.append(c)
time.sleep(2.0)
stop.set()
for thread in threads:
    thread.join(TIMEOUT + 5)
t_end = now()
for index, c in enumerate(cycles):
    c["end"] = cycles[index + 1]["stop_begin"] if index + 1 < len(cycles) else t_end + 1

failures = []
def fail(message):
    failures.append(message)

def phase(t0, t1):
    if t1 <= cycles[0]["stop_begin"]:
        return "baseline"
    for c in cycles:
        if t0 >= c["down"] and t1 <= c["start_begin"]:
            return "down"
        if c["recovered_at"] is not None and t0 >= c["recovered_at"] and t1 <= c["end"]:
            return "recovered"
    return "transition"

by_phase = {}
slowest = {}
first_503 = {}
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
    for index, c in enumerate(cycles):
        if kind == "verify" and status == 503 and c["stop_begin"] <= t0 < c["end"] and t1 < first_503.get(index, 1e18):
            first_503[index] = t1

print(f"  load: {verify_threads} verify clients + a ready poller, {len(records)} requests in {t_end - t_begin:.1f}s, "
      f"{len(cycles)} outage(s) of {outage:.0f}s")
for index, c in enumerate(cycles):
    in_cycle = lambda r: c["down"] <= r[1] and r[2] <= c["start_begin"]
    down_verifies = sum(1 for r in records if r[0] == "verify" and in_cycle(r))
    down_ready = sum(1 for r in records if r[0] == "ready" and in_cycle(r))
    if down_verifies == 0 or down_ready == 0:
        fail(f"outage {index + 1}: no request completed entirely while PostgreSQL was down (verify {down_verifies}, ready {down_ready})")
    for kind, at in (("ready 200", c["ready_at"]), ("a valid verify", c["verify_at"])):
        if at is None or at - c["up"] > RECOVERY:
            fail(f"outage {index + 1}: {kind} not within {RECOVERY}s of PostgreSQL accepting connections"
                 + (f" (took {at - c['up']:.2f}s)" if at else " (never)"))
    print(f"  outage {index + 1}: stop took {c['down'] - c['stop_begin']:.2f}s; down {c['start_begin'] - c['down']:.2f}s; "
          f"start → accepting {c['up'] - c['start_begin']:.2f}s" + ("" if c["pg_isready"] else " (no pg_isready: start's return)")
          + (f"; first verify 503 {first_503[index] - c['stop_begin']:.3f}s after the stop began" if index in first_503 else "")
          + "; after accepting: ready 200 in " + (f"{c['ready_at'] - c['up']:.3f}s" if c["ready_at"] else "never")
          + ", verify valid in " + (f"{c['verify_at'] - c['up']:.3f}s" if c["verify_at"] else "never"))
for p in ("baseline", "transition", "down", "recovered"):
    counts = {f"{k} {s}": v for (q, k, s), v in sorted(by_phase.items(), key=lambda x: (x[0][0], x[0][1], x[0][2] or 0)) if q == p}
    worst = {k: round(v, 3) for (q, k), v in slowest.items() if q == p}
    print(f"  {p:<10}: {counts}  slowest (s): {worst}")
slow = sorted((r for r in records if r[2] - r[1] > 1.0), key=lambda r: (r[2] - r[1] <= HANG, r[1]))
if slow:
    origin = cycles[0]["stop_begin"]
    print(f"  {len(slow)} requests slower than 1s (hangs first; times relative to the first stop; PostgreSQL accepting "
          f"again at " + ", ".join(f"{c['up'] - origin:+.2f}s" for c in cycles) + "):")
    for kind, t0, t1, status, valid, detail in slow[:12]:
        print(f"    {kind:<6} {t0 - origin:+7.2f}s → {t1 - origin:+7.2f}s ({t1 - t0:5.2f}s): {status} {detail[:90]}")
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
# The server must still stop on SIGTERM (a request stuck since the outage would hold the graceful shutdown).
kill -TERM "$server"
for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server" 2>/dev/null; then
  echo "  FAIL: the server did not exit within 10 s of SIGTERM (open connections: $(ss -tn state established "( sport = :$port )" 2>/dev/null | tail -n +2 | wc -l)); killed"
  kill -9 "$server" 2>/dev/null || true
  status=1
fi
{ wait "$server"; } 2>/dev/null || true
server=""
exit $status
