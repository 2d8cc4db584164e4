#!/usr/bin/env bash
# Tracing end to end (spec §11.3): the real binary exports OTLP/HTTP to a real receiver (opentelemetry-proto); a
# verify with a W3C traceparent yields http.request (child of the caller's span) → verifier.VerifyAPIKey → db.query
# with the right parent ids, the response carries traceparent, and no span attribute holds a secret.
#   scripts/e2e-tracing.sh BINARY TOOLS_BIN   (TOOLS_BIN from scripts/python-tools.sh)
set -euo pipefail
binary=$(realpath "$1")
tools=$2
scripts=$(realpath "$(dirname "$0")")
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT
otlp_port=$(free_port); port=$(free_port)
"$tools/python" "$scripts/otlp-receiver.py" "$otlp_port" "$work/spans.jsonl" &
pids+=($!)
hmac="tracing-secret-that-is-long-enough-0123456789"
TALOS_SECRETS_HMAC_CURRENT=$hmac TALOS_CREDENTIALS_ISSUER=https://tracing.example.com TALOS_DB_DSN="sqlite://$work/t.db" \
  TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$(free_port) \
  TALOS_TRACING_ENABLED=true TALOS_TRACING_ENDPOINT="http://127.0.0.1:$otlp_port" TALOS_TRACING_SAMPLE_RATE=0 \
  TALOS_TRACING_SERVICE_NAME=talos-e2e "$binary" serve >"$work/server.log" 2>&1 &
server=$!
pids+=($server)
wait_alive "http://127.0.0.1:$port"
url="http://127.0.0.1:$port"
secret=$(curl -s -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"t","actor_id":"t"}' | jq -r .secret)
trace=4bf92f3577b34da6a3ce929d0e0e4736; caller=00f067aa0ba902b7
# Sampled by the caller: with sample_rate 0 the parent-based sampler still records it.
curl -s -D "$work/headers.txt" -o /dev/null -X POST "$url/v2alpha1/admin/apiKeys:verify" \
  -H "traceparent: 00-$trace-$caller-01" -d "{\"credential\":\"$secret\",\"expected_audiences\":[]}"
# Not sampled by the caller, and sample_rate 0: nothing recorded.
curl -s -o /dev/null -X POST "$url/v2alpha1/admin/apiKeys:verify" \
  -H "traceparent: 00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-00f067aa0ba902b7-00" -d "{\"credential\":\"$secret\"}"
kill -TERM $server; wait $server 2>/dev/null || true
for _ in $(seq 1 50); do [ -s "$work/spans.jsonl" ] && break; sleep 0.1; done
check "the response carries traceparent in the caller's trace" grep -qi "^traceparent: 00-$trace-" "$work/headers.txt"
python3 - "$work/spans.jsonl" "$trace" "$caller" >"$work/chain.txt" <<'PY'
import json, sys
spans = [json.loads(line) for line in open(sys.argv[1])]
trace, caller = sys.argv[2], sys.argv[3]
mine = [s for s in spans if s["trace_id"] == trace]
by_name = {s["name"]: s for s in mine}
http, verify, db = by_name.get("http.request"), by_name.get("verifier.VerifyAPIKey"), by_name.get("db.query")
print("names=" + ",".join(sorted(by_name)))
print("http_parent_ok=%s" % (http is not None and http["parent_span_id"] == caller))
print("verify_parent_ok=%s" % (verify is not None and http is not None and verify["parent_span_id"] == http["span_id"]))
print("db_parent_ok=%s" % (db is not None and verify is not None and db["parent_span_id"] == verify["span_id"]))
print("unsampled_recorded=%s" % any(s["trace_id"] == "a" * 32 for s in spans))
print("service=%s" % (http or {}).get("service"))
print("verify_attributes=" + json.dumps((verify or {}).get("attributes", {}), sort_keys=True))
PY
cat "$work/chain.txt"
check "http.request is a child of the caller's span" grep -q 'http_parent_ok=True' "$work/chain.txt"
check "verifier.VerifyAPIKey is a child of http.request" grep -q 'verify_parent_ok=True' "$work/chain.txt"
check "db.query is a child of verifier.VerifyAPIKey" grep -q 'db_parent_ok=True' "$work/chain.txt"
check "an unsampled caller with sample_rate 0 records nothing" grep -q 'unsampled_recorded=False' "$work/chain.txt"
check "spans carry the service name" grep -q 'service=talos-e2e' "$work/chain.txt"
check "verification attributes are recorded" grep -q '"credential_type": "issued"' "$work/chain.txt"
check "no span attribute holds a secret" bash -c "! grep -qF -e '$secret' -e '$hmac' -e 'ory_ak_v1_' '$work/spans.jsonl'"
echo "e2e-tracing: $passed passed, $failed failed"
test "$failed" = 0
