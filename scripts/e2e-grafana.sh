#!/usr/bin/env bash
# The Grafana dashboards (config/grafana/) against a real Prometheus (Debian's `prometheus`) scraping a real server on
# PostgreSQL under load, without Grafana or Docker:
#   - every dashboard is what scripts/grafana-dashboards.py writes, and well-formed for the schema version it declares
#     (39): unique panel ids, grid positions inside 24 columns that do not overlap, known panel types, every query on
#     the `datasource` variable with a unique refId, the template variables Grafana needs;
#   - every query of every panel (and every template variable's label_values) returns data through Prometheus's HTTP
#     API, with $job/$instance as "All" and $__rate_interval as 30s, evaluated at the end of the load (an edge node,
#     `talos proxy`, runs in front of the server for the edge dashboard).
#   scripts/e2e-grafana.sh BINARY DSN
set -euo pipefail
binary=$(realpath "$1")
dsn=$2
root=$(realpath "$(dirname "$0")/..")
. "$root/scripts/lib.sh"
command -v prometheus >/dev/null || { echo "prometheus not found (apt-get install prometheus)" >&2; exit 2; }
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

check "the dashboards are what scripts/grafana-dashboards.py writes" python3 "$root/scripts/grafana-dashboards.py" --check
python3 - "$root/config/grafana/dashboards" >"$work/structure.txt" <<'PY' || true
import json, os, sys
directory = sys.argv[1]
TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap"}
problems = []
for name in sorted(os.listdir(directory)):
    path = os.path.join(directory, name)
    try:
        board = json.load(open(path))
    except ValueError as error:
        problems.append(f"{name}: not JSON: {error}"); continue
    def fail(text): problems.append(f"{name}: {text}")
    if board.get("schemaVersion") != 39: fail(f"schemaVersion {board.get('schemaVersion')} (expected 39)")
    for key, kind in [("uid", str), ("title", str), ("panels", list), ("templating", dict), ("time", dict), ("version", int)]:
        if not isinstance(board.get(key), kind): fail(f"{key} missing or not {kind.__name__}")
    if not (isinstance(board.get("uid"), str) and 0 < len(board["uid"]) <= 40): fail("uid must be 1-40 characters")
    variables = {v.get("name"): v for v in board.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource" or variables["datasource"].get("query") != "prometheus":
        fail("no `datasource` variable of type datasource for prometheus")
    for variable in variables.values():
        if variable.get("type") not in {"datasource", "query", "custom", "constant", "interval", "textbox"}:
            fail(f"variable {variable.get('name')}: type {variable.get('type')}")
    ids, cells = set(), {}
    for panel in board.get("panels", []):
        pid, where = panel.get("id"), f"panel {panel.get('id')} {panel.get('title')!r}"
        if not isinstance(pid, int) or pid in ids: fail(f"{where}: id missing or duplicate")
        ids.add(pid)
        if panel.get("type") not in TYPES: fail(f"{where}: type {panel.get('type')}")
        if not panel.get("title"): fail(f"{where}: no title")
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "xywh") or grid["x"] < 0 or grid["w"] < 1 or grid["x"] + grid["w"] > 24 or grid["h"] < 1:
            fail(f"{where}: gridPos {grid}"); continue
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                if (x, y) in cells: fail(f"{where}: overlaps panel {cells[(x, y)]}")
                cells[(x, y)] = pid
        if panel["type"] == "row": continue
        if panel.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}: fail(f"{where}: datasource {panel.get('datasource')}")
        targets = panel.get("targets") or []
        if not targets: fail(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(refs): fail(f"{where}: refIds {refs}")
        for target in targets:
            if not target.get("expr"): fail(f"{where}: target {target.get('refId')} has no expr")
            if target.get("datasource") != panel.get("datasource"): fail(f"{where}: target {target.get('refId')} datasource")
        if "unit" not in panel.get("fieldConfig", {}).get("defaults", {}): fail(f"{where}: no unit")
    print(f"{name}: {len(ids)} panels")
for problem in problems: print("PROBLEM " + problem)
sys.exit(1 if problems else 0)
PY
cat "$work/structure.txt"
check "every dashboard is well-formed for schema version 39" bash -c "! grep -q '^PROBLEM' '$work/structure.txt' && grep -q panels '$work/structure.txt'"

# A server on PostgreSQL (the cluster invalidation listener reports only there) with everything the boards show on.
db="talos_grafana_$$"
TALOS_DB_DSN=$(fresh_database "$dsn" "$db")
export TALOS_DB_DSN
export TALOS_SECRETS_HMAC_CURRENT="grafana-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://grafana.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_METRICS_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
export TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_RATE_LIMIT_ENABLED=true TALOS_RATE_LIMIT_BACKEND=postgres
export TALOS_USAGE_FLUSH_INTERVAL=1s TALOS_LAST_USED_FLUSH_INTERVAL=1s TALOS_SERVE_ADMIN_AUTH_ENABLED=true
"$binary" migrate up >/dev/null
admin_key=$("$binary" admin-keys create grafana --permissions '*' -q)
port=$(free_port); metrics_port=$(free_port); prometheus_port=$(free_port)
TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$metrics_port "$binary" serve >"$work/server.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$port" "$work/server.log"

# An edge node in front of it, following its revocation feed.
edge_port=$(free_port); edge_metrics=$(free_port)
"$binary" admin-keys create edge --permissions revocations.watch -q >"$work/edge.key"
"$binary" proxy --upstream "http://127.0.0.1:$port" --listen "127.0.0.1:$edge_port" \
  --metrics-listen "127.0.0.1:$edge_metrics" --admin-key-file "$work/edge.key" >"$work/edge.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$edge_port" "$work/edge.log"

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: talos-admin
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
  - job_name: talos-edge
    static_configs:
      - targets: ["127.0.0.1:$edge_metrics"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$prometheus_port/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
check "prometheus is ready" curl -sf "http://127.0.0.1:$prometheus_port/-/ready" -o /dev/null

# Load for 8 s: issue, verify (cache hits, misses, unknown keys), rate limits, revoke, rotate, derive, usage reads,
# admin requests without a key.
python3 - "$port" "$admin_key" "$edge_port" >"$work/load.txt" <<'PY'
import http.client, json, sys, time
port, admin_key, edge_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
edge = http.client.HTTPConnection("127.0.0.1", edge_port, timeout=10)
auth = {"Authorization": f"Bearer {admin_key}"}
def call(method, path, body=None, headers=auth):
    conn.request(method, path, json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse(); data = r.read()
    return r.status, json.loads(data) if data else None
requests, started = 0, time.time()
while time.time() - started < 8:
    _, issued = call("POST", "/v2alpha1/admin/issuedApiKeys", {"name": "g", "actor_id": "grafana"})
    key, secret = issued["issued_api_key"]["key_id"], issued["secret"]
    for _ in range(10): call("POST", "/v2alpha1/admin/apiKeys:verify", {"credential": secret})
    for _ in range(3):  # through the edge: a miss, then hits (the key is rotated away below: an eviction)
        edge.request("POST", "/v2alpha1/admin/apiKeys:verify", json.dumps({"credential": secret}), auth)
        edge.getresponse().read()
    call("POST", "/v2alpha1/admin/apiKeys:verify", {"credential": secret}, {**auth, "Cache-Control": "no-cache"})
    call("POST", "/v2alpha1/admin/apiKeys:verify", {"credential": "sk_unknown_" + key})
    _, limited = call("POST", "/v2alpha1/admin/issuedApiKeys",
                      {"name": "g", "actor_id": "grafana", "rate_limit_policy": {"quota": "1", "window": "3600s"}})
    for _ in range(3): call("POST", "/v2alpha1/admin/apiKeys:verify", {"credential": limited["secret"]})
    call("POST", "/v2alpha1/admin/apiKeys:derive", {"credential": secret, "algorithm": "TOKEN_ALGORITHM_MACAROON"})
    call("POST", f"/v2alpha1/admin/issuedApiKeys/{key}:rotate", {})
    call("POST", f"/v2alpha1/admin/apiKeys/{limited['issued_api_key']['key_id']}:revoke", {"reason": "REVOCATION_REASON_KEY_COMPROMISE"})
    call("GET", f"/v2alpha1/admin/apiKeys/{key}/usage")
    call("GET", "/v2alpha1/admin/issuedApiKeys?page_size=1", headers={})
    requests += 25
print(f"{requests} requests in {time.time() - started:.1f} s")
PY
cat "$work/load.txt"
sleep 2  # the last scrapes and flushes
at=$(date +%s)

python3 - "$root/config/grafana/dashboards" "http://127.0.0.1:$prometheus_port" "$at" >"$work/queries.txt" <<'PY' || true
import json, math, os, sys, urllib.parse, urllib.request
directory, prometheus, at = sys.argv[1], sys.argv[2], sys.argv[3]
def substitute(expr):
    return expr.replace("$__rate_interval", "30s").replace('"$job"', '".*"').replace('"$instance"', '".*"')
def query(expr):
    url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": at})
    return json.load(urllib.request.urlopen(url, timeout=10))
failures = total = 0
for name in sorted(os.listdir(directory)):
    board = json.load(open(os.path.join(directory, name)))
    for variable in board["templating"]["list"]:
        if variable["type"] != "query": continue
        definition = variable["query"]["query"]  # label_values(metric{...}, label)
        metric, label = definition[len("label_values("):-1].rsplit(", ", 1)
        url = prometheus + "/api/v1/label/%s/values?%s" % (label, urllib.parse.urlencode({"match[]": substitute(metric)}))
        values = json.load(urllib.request.urlopen(url, timeout=10))["data"]
        total += 1; failures += not values
        print(f"{'ok  ' if values else 'FAIL'} {name} variable {variable['name']}: {values}")
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            total += 1
            try:
                answer = query(substitute(target["expr"]))
                samples = [float(s["value"][1]) for s in answer["data"]["result"]]
                good = answer["status"] == "success" and any(not math.isnan(v) for v in samples)
            except Exception as error:
                samples, good = [str(error)], False
            failures += not good
            shown = ", ".join(f"{v:.4g}" if isinstance(v, float) else v for v in samples[:4])
            print(f"{'ok  ' if good else 'FAIL'} {name} {panel['title']!r} {target['refId']}: [{shown}]")
print(f"{total - failures} of {total} queries returned data")
sys.exit(1 if failures else 0)
PY
cat "$work/queries.txt"
check "every dashboard query returns data from a real Prometheus" bash -c "! grep -q '^FAIL' '$work/queries.txt' && grep -q 'queries returned data' '$work/queries.txt'"

drop_database "$dsn" "$db"
echo "e2e-grafana: $passed passed, $failed failed"
[ "$failed" = 0 ]
