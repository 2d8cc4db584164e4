#!/usr/bin/env bash
# A/B of two talos binaries in one run: rounds alternate A and B on the same machine, each on a fresh SQLite
# database with the production verify path on (memory cache, memory rate limits). Prints requests/s and p99 of
# GET /health/alive, cached verify (HIT) and uncached verify (Cache-Control: no-cache), then the means.
#   scripts/ab.sh BINARY_A BINARY_B [ROUNDS (3)] [DURATION (4s)]
# e.g. build HEAD~1 and HEAD in release, copy each .build/release/talos aside, and compare them.
# AB_B_ADMIN_AUTH=1 runs variant B with serve.admin.auth.enabled and a bootstrapped admin key on every request: with
# the same binary twice, that is the cost of admin authentication (spec §16.3).
# AB_POSTGRES_DSN=postgres://…: each round on a fresh PostgreSQL database instead, with rate_limit.backend postgres
# and a rate-limit policy on the verified key (quota 10^9 per day, never reached): the cluster-wide limiter on one
# hot key is then on every verification's path.
# AB_A_ENV / AB_B_ENV: extra NAME=VALUE settings (space-separated) for one variant's server, e.g.
# AB_B_ENV=TALOS_USAGE_ENABLED=false with the same binary twice is the cost of usage analytics.
set -euo pipefail
a=$(realpath "$1") b=$(realpath "$2") rounds=${3:-3} duration=${4:-4s}
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }
cd "$(dirname "$0")/.."
. scripts/lib.sh
work=$(mktemp -d)
server=""
trap '[ -z "$server" ] || kill $server 2>/dev/null; rm -rf "$work"' EXIT
port=$(free_port)
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$(free_port) TALOS_LOG_LEVEL=error \
  TALOS_SECRETS_HMAC_CURRENT=ab-secret-that-is-long-enough-0123456789 TALOS_CREDENTIALS_ISSUER=http://ab \
  TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_CACHE_TTL=5m TALOS_RATE_LIMIT_ENABLED=true TALOS_RATE_LIMIT_BACKEND=memory
url="http://127.0.0.1:$port"
measure() { # label url [lua] → "rps p99"
  local out
  out=$(wrk -t2 -c32 -d"$duration" --latency ${3:+-s "$work/$3"} "$2")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $1: $(grep Non-2xx <<<"$out")" >&2; fi
  awk '/^Requests\/sec/ {r=$2} $1=="99%" {p=$2} END {print r, p}' <<<"$out"
}
for round in $(seq 1 "$rounds"); do
  for variant in A B; do
    binary=$a; [ $variant = A ] || binary=$b
    rm -f "$work"/ab.db*
    dsn="sqlite://$work/ab.db" backend=memory policy=""
    if [ -n "${AB_POSTGRES_DSN:-}" ]; then
      dsn=$(fresh_database "$AB_POSTGRES_DSN" "talos_ab_$$")
      backend=postgres policy=',"rate_limit_policy":{"quota":"1000000000","window":"86400s"}'
    fi
    TALOS_DB_DSN="$dsn" "$binary" migrate up >/dev/null
    auth=false auth_header=() auth_lua=""
    if [ $variant = B ] && [ "${AB_B_ADMIN_AUTH:-0}" = 1 ]; then
      key=$(TALOS_DB_DSN="$dsn" "$binary" admin-keys create ab --permissions '*' -q)
      auth=true auth_header=(-H "Authorization: Bearer $key") auth_lua="wrk.headers[\"Authorization\"] = \"Bearer $key\""
    fi
    extra=${AB_A_ENV:-}; [ $variant = A ] || extra=${AB_B_ENV:-}
    # shellcheck disable=SC2086 # the settings are split on spaces on purpose
    env $extra TALOS_SERVE_ADMIN_AUTH_ENABLED=$auth TALOS_DB_DSN="$dsn" TALOS_RATE_LIMIT_BACKEND=$backend \
      "$binary" serve >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -sf "$url/health/alive" >/dev/null && break; sleep 0.1; done
    secret=$(curl -s "${auth_header[@]}" -X POST "$url/v2alpha1/admin/issuedApiKeys" -d "{\"name\":\"ab\",\"actor_id\":\"ab\"$policy}" | jq -r .secret)
    printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n%s\n' "'{\"credential\":\"$secret\"}'" "$auth_lua" >"$work/v.lua"
    { cat "$work/v.lua"; echo 'wrk.headers["Cache-Control"] = "no-cache"'; } >"$work/n.lua"
    echo "round=$round variant=$variant alive=[$(measure alive "$url/health/alive")]" \
      "verify=[$(measure verify "$url/v2alpha1/admin/apiKeys:verify" v.lua)]" \
      "verify_no_cache=[$(measure nocache "$url/v2alpha1/admin/apiKeys:verify" n.lua)]" | tee -a "$work/results.txt"
    kill $server; wait $server 2>/dev/null || true; server=""
  done
done
python3 - "$work/results.txt" <<'PY'
import re, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    variant = re.search(r"variant=(\w)", line).group(1)
    for name, rps in re.findall(r"(\w+)=\[([\d.]+) ", line):
        rows.setdefault((variant, name), []).append(float(rps))
for name in ("alive", "verify", "verify_no_cache"):
    a, b = statistics.mean(rows[("A", name)]), statistics.mean(rows[("B", name)])
    print(f"mean {name:16} A={a:9.0f} req/s  B={b:9.0f} req/s  B/A={b / a:.2f}")
PY
