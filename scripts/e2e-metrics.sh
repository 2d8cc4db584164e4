#!/usr/bin/env bash
# Metrics end to end (spec §3.19, §11.1): the metrics listener serves the Prometheus text format that a real
# Prometheus accepts (`promtool check metrics`), with concrete counter values after a known workload and no
# unbounded label values; the API listener does not serve /metrics. Logs are checked for secrets (spec §11.2).
#   scripts/e2e-metrics.sh BINARY
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
server=""
trap '[ -z "$server" ] || kill $server 2>/dev/null; rm -rf "$work"' EXIT
command -v promtool >/dev/null || { echo "promtool not found (apt-get install prometheus)"; exit 1; }
port=$(free_port); metrics_port=$(free_port)
hmac="metrics-secret-that-is-long-enough-0123456789"
signing=$("$binary" jwk generate eddsa --kid m --base64)
TALOS_SECRETS_HMAC_CURRENT=$hmac TALOS_CREDENTIALS_ISSUER=https://metrics.example.com TALOS_DB_DSN="sqlite://$work/m.db" \
  TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_HOST=127.0.0.1 \
  TALOS_SERVE_METRICS_PORT=$metrics_port TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_RATE_LIMIT_ENABLED=true \
  TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS="$signing" \
  "$binary" serve >"$work/server.log" 2>&1 &
server=$!
wait_alive "http://127.0.0.1:$port"
url="http://127.0.0.1:$port"; murl="http://127.0.0.1:$metrics_port"

# The workload: 3 issued keys, 7 valid verifies (1 miss + 6 hits), 3 unknown credentials, 1 revoke, 2 derived tokens
# (1 verified), a batch import of 3 (1 duplicate), a rate-limited key over its quota of 1.
issued=$(curl -s -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"m","actor_id":"metrics-actor"}')
secret=$(jq -r .secret <<<"$issued"); key_id=$(jq -r .issued_api_key.key_id <<<"$issued")
for _ in $(seq 1 7); do curl -s -X POST "$url/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$secret\"}" >/dev/null; done
for i in 1 2 3; do curl -s -X POST "$url/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"sk_unknown_$i\"}" >/dev/null; done
other=$(curl -s -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"m","actor_id":"metrics-actor"}' | jq -r .issued_api_key.key_id)
curl -s -o /dev/null -X POST "$url/v2alpha1/admin/apiKeys/$other:revoke" -d '{"reason":"REVOCATION_REASON_SUPERSEDED"}'
jwt=$(curl -s -X POST "$url/v2alpha1/admin/apiKeys:derive" -d "{\"credential\":\"$secret\"}" | jq -r .token.token)
macaroon=$(curl -s -X POST "$url/v2alpha1/admin/apiKeys:derive" -d "{\"credential\":\"$secret\",\"algorithm\":\"TOKEN_ALGORITHM_MACAROON\"}" | jq -r .token.token)
curl -s -X POST "$url/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$jwt\"}" >/dev/null
curl -s -X POST "$url/v2alpha1/admin/importedApiKeys:batchCreate" \
  -d '{"requests":[{"raw_key":"sk_metrics_a","name":"i","actor_id":"i"},{"raw_key":"sk_metrics_b","name":"i","actor_id":"i"},{"raw_key":"sk_metrics_a","name":"i","actor_id":"i"}]}' >/dev/null
limited=$(curl -s -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"m","actor_id":"metrics-actor","rate_limit_policy":{"quota":"1","window":"1h"}}' | jq -r .secret)
for _ in 1 2 3; do curl -s -X POST "$url/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$limited\"}" >/dev/null; done
page_token=$(curl -s "$url/v2alpha1/admin/issuedApiKeys?page_size=1" | jq -r .next_page_token)

curl -s "$murl/metrics" >"$work/scrape.txt"
check "promtool check metrics accepts the scrape" bash -c "promtool check metrics <'$work/scrape.txt' 2>&1 | tee '$work/promtool.txt'; test \${PIPESTATUS[0]} = 0"
sum() { # metric name, then label=value filters
  python3 - "$work/scrape.txt" "$@" <<'PY'
import re, sys
path, name, *filters = sys.argv[1:]
total = 0.0
for line in open(path):
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line.strip())
    if not m or m.group(1) != name: continue
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if all(labels.get(k) == v for k, v in (f.split("=", 1) for f in filters)): total += float(m.group(4))
print(int(total) if total == int(total) else total)
PY
}
check "8 valid issued verifications (7, and the limited key's first)" test "$(sum talos_verifications_total credential_type=issued result=valid)" = 8
check "6 of them from the cache" test "$(sum talos_verifications_total credential_type=issued result=valid cache=hit)" = 6
check "3 unknown imported credentials" test "$(sum talos_verifications_total credential_type=imported error_code=VERIFICATION_ERROR_NOT_FOUND)" = 3
check "1 derived JWT verified" test "$(sum talos_verifications_total credential_type=derived_jwt result=valid)" = 1
check "2 rate-limited verifications" test "$(sum talos_rate_limited_total)" = 2
check "3 issued keys created" test "$(sum talos_api_keys_created_total type=issued)" = 3
check "2 imported keys created" test "$(sum talos_api_keys_created_total type=imported)" = 2
check "1 key revoked (superseded)" test "$(sum talos_api_keys_revoked_total reason=REVOCATION_REASON_SUPERSEDED)" = 1
check "2 derived tokens minted" test "$(sum talos_derived_tokens_minted_total)" = 2
check "batch import: 1 partial failure, 1 duplicate" test "$(sum talos_batch_import_partial_failures_total):$(sum talos_batch_import_keys_total outcome=failure error_code=ALREADY_EXISTS)" = 1:1
check "local cache invalidations counted" test "$(sum talos_cache_invalidations_total source=local)" -ge 1
check "HTTP requests counted by route template" test "$(sum talos_http_requests_total route=/v2alpha1/admin/apiKeys:verify code=200)" = 14
check "Ory's http_requests_total{method,code,endpoint} counts what ours does" test \
  "$(sum http_requests_total endpoint=/v2alpha1/admin/apiKeys:verify code=200 method=POST)" = 14
check "Ory's body-size histograms count every request" test \
  "$(sum http_request_size_bytes_count):$(sum http_response_size_bytes_count)" = "$(sum talos_http_requests_total):$(sum talos_http_requests_total)"
check "the verify request bodies are measured in bytes" test \
  "$(sum http_request_size_bytes_sum endpoint=/v2alpha1/admin/apiKeys:verify)" -gt 500
check "Ory's http_requests_in_flight gauge (0 between requests)" grep -q '^http_requests_in_flight 0' "$work/scrape.txt"
check "request durations are a histogram" grep -q '^talos_http_request_duration_seconds_bucket{' "$work/scrape.txt"
check "build info" grep -q '^talos_build_info{version="' "$work/scrape.txt"
check "no key id, actor or credential in any label" bash -c "! grep -qE '$key_id|metrics-actor|ory_ak_v1|sk_metrics' '$work/scrape.txt'"
check "the API listener does not serve /metrics" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/metrics")" = 404
check "the metrics listener answers unknown paths and methods in the envelope (404, 405 with Allow)" test \
  "$(curl -s "$murl/nothing" | jq -r '.error.details[0].reason')$(curl -s -o /dev/null -w ' %{http_code}' -X POST "$murl/metrics")$(curl -s -X POST "$murl/metrics" | jq -r '" " + .error.details[0].reason')" = "NOT_FOUND 405 METHOD_NOT_ALLOWED"
check "health and version on the metrics listener" test "$(curl -s "$murl/health/alive" | jq -r .status)$(curl -s "$murl/version" | jq -r 'has("version")')" = oktrue
startup=$(grep '"msg":"talos starting"' "$work/server.log" | jq -r '[.storage, .crypto, .listeners, .features] | join(" | ")')
check "one startup line names backends, listeners and features" test "$startup" = \
  "sqlite | openssl | api=127.0.0.1:$port metrics=127.0.0.1:$metrics_port | cache,rate-limit(memory),usage,console"
kill -TERM $server; wait $server 2>/dev/null || true; server=""
# No secret in any log line of the run (spec §11.2): API secrets, raw imported keys, the HMAC secret, the signing
# key's private part, derived tokens, page tokens.
private_d=$(python3 -c "import base64,json,sys; s='$signing'; s=s[len('base64://'):]; print(json.loads(base64.b64decode(s + '=' * (-len(s) % 4)))['keys'][0]['d'])")
leaks=0
for needle in "$secret" "$limited" sk_metrics_a sk_unknown_1 "$hmac" "$private_d" "$jwt" "$macaroon" "$page_token"; do
  [ -n "$needle" ] || continue
  if grep -qF -- "$needle" "$work/server.log"; then leaks=$((leaks + 1)); echo "  leaked: ${needle:0:12}…"; fi
done
check "no secret in any log line ($(wc -l <"$work/server.log") lines)" test "$leaks" = 0
echo "e2e-metrics: $passed passed, $failed failed"
test "$failed" = 0
