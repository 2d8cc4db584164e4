#!/usr/bin/env bash
# Forward auth (docs/forward-auth.md) behind the real gateways from Debian's packages: nginx (`auth_request`) and
# Caddy (`forward_auth`), each run with the very files the README shows (config/gateways/nginx.conf and Caddyfile,
# placeholders replaced), in front of a tiny upstream that echoes the headers it got, against the real binary with
# admin authentication on (the gateways send an admin key holding keys.verify in Talos-Admin-Key):
#   a valid key reaches the upstream with Talos-Key-Id/-Actor-Id/-Scopes; no or a bad credential is 401 with
#   WWW-Authenticate at the client; a key without the scope is 403; a rate-limited key is 429 (Caddy, with
#   Retry-After) or 403 (nginx, rate_limited_status=403); a derived JWT works; a revoked key is refused.
#   scripts/e2e-gateways.sh BINARY
set -euo pipefail
binary=$(realpath "$1")
root=$(realpath "$(dirname "$0")/..")
. "$root/scripts/lib.sh"
for tool in nginx caddy; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install nginx-light caddy)" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

check "the README shows config/gateways/nginx.conf as it is" python3 -c '
import sys; readme = open(sys.argv[1]).read(); sys.exit(0 if open(sys.argv[2]).read() in readme else 1)' \
  "$root/README.md" "$root/config/gateways/nginx.conf"
check "the README shows config/gateways/Caddyfile as it is" python3 -c '
import sys; readme = open(sys.argv[1]).read(); sys.exit(0 if open(sys.argv[2]).read() in readme else 1)' \
  "$root/README.md" "$root/config/gateways/Caddyfile"

export TALOS_SECRETS_HMAC_CURRENT="gateway-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://gateway.example.com" TALOS_LOG_LEVEL=warn
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_METRICS_HOST=127.0.0.1 TALOS_DB_DSN="sqlite://$work/talos.db"
export TALOS_SERVE_ADMIN_AUTH_ENABLED=true TALOS_RATE_LIMIT_ENABLED=true TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true
TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS=$("$binary" jwk generate eddsa --kid gw --base64)
export TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS
"$binary" migrate up >/dev/null
admin=$("$binary" admin-keys create ops --permissions '*' -q)
gateway_key=$("$binary" admin-keys create gateway --permissions keys.verify -q)
talos_port=$(free_port); app_port=$(free_port); nginx_port=$(free_port); caddy_port=$(free_port)
TALOS_SERVE_HTTP_PORT=$talos_port TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve >"$work/talos.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$talos_port" "$work/talos.log"

# The upstream: answers every request with the headers it received, as JSON.
python3 - "$app_port" >"$work/app.log" 2>&1 <<'PY' &
import http.server, json, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def reply(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = reply
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
pids+=($!)

place() { # file listen → the file with its placeholders replaced
  sed -e "s|TALOS_ADMIN_KEY|$gateway_key|g" -e "s|LISTEN|$2|g" -e "s|TALOS|127.0.0.1:$talos_port|g" \
    -e "s|APP|127.0.0.1:$app_port|g" "$1"
}
mkdir -p "$work/nginx"
{
  echo "daemon off; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log warn;"
  echo "events {}"
  echo "http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;"
  echo "  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
  place "$root/config/gateways/nginx.conf" "127.0.0.1:$nginx_port"
  echo "}"
} >"$work/nginx/nginx.conf"
nginx -t -q -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>"$work/nginx/test.log" || { cat "$work/nginx/test.log"; exit 1; }
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
place "$root/config/gateways/Caddyfile" "127.0.0.1:$caddy_port" >"$work/Caddyfile"
caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
pids+=($!)
for port in "$nginx_port" "$caddy_port" "$app_port"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

issue() { # body → "key_id secret"
  curl -sf -H "Authorization: Bearer $admin" -X POST "http://127.0.0.1:$talos_port/v2alpha1/admin/issuedApiKeys" -d "$1" \
    | jq -r '.issued_api_key.key_id + " " + .secret'
}
read -r key_id secret <<<"$(issue '{"name":"gw","actor_id":"gateway-actor","scopes":["read","write"]}')"
read -r _ unscoped <<<"$(issue '{"name":"gw","actor_id":"gateway-actor","scopes":["write"]}')"
read -r revoked_id revoked <<<"$(issue '{"name":"gw","actor_id":"gateway-actor","scopes":["read"]}')"
curl -sf -o /dev/null -H "Authorization: Bearer $admin" -X POST \
  "http://127.0.0.1:$talos_port/v2alpha1/admin/apiKeys/$revoked_id:revoke" -d '{"reason":"REVOCATION_REASON_KEY_COMPROMISE"}'
jwt=$(curl -sf -H "Authorization: Bearer $admin" -X POST "http://127.0.0.1:$talos_port/v2alpha1/admin/apiKeys:derive" \
  -d "{\"credential\":\"$secret\",\"scopes\":[\"read\"]}" | jq -r .token.token)

status() { # url [curl args…] → the status code
  local url=$1; shift
  curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' "$@" "$url"
}
for gateway in nginx caddy; do
  port=$nginx_port; [ $gateway = nginx ] || port=$caddy_port
  url="http://127.0.0.1:$port/orders"
  code=$(status "$url" -H "Authorization: Bearer $secret")
  check "$gateway: a valid key reaches the upstream (200)" test "$code" = 200
  check "$gateway: the upstream gets Talos-Key-Id, Talos-Actor-Id and Talos-Scopes" \
    test "$(jq -r '[.["talos-key-id"], .["talos-actor-id"], .["talos-scopes"]] | join(" ")' "$work/body")" = \
    "$key_id gateway-actor read,write"
  code=$(status "$url" -H "X-API-Key: $secret")
  check "$gateway: X-API-Key works too" test "$code" = 200
  code=$(status "$url")
  check "$gateway: no credential is 401 with WWW-Authenticate" \
    bash -c "[ '$code' = 401 ] && grep -qi '^www-authenticate: Bearer error=\"invalid_token\"' '$work/headers'"
  code=$(status "$url" -H "Authorization: Bearer ory_ak_v1_not_a_real_key_at_all")
  check "$gateway: a bad credential is 401" test "$code" = 401
  code=$(status "$url" -H "Authorization: Bearer $unscoped")
  check "$gateway: a key without scope read is 403" test "$code" = 403
  code=$(status "$url" -H "Authorization: Bearer $revoked")
  check "$gateway: a revoked key is refused (401)" test "$code" = 401
  code=$(status "$url" -H "Authorization: Bearer $jwt")
  check "$gateway: a derived JWT is accepted (200), its parent key named" \
    bash -c "[ '$code' = 200 ] && [ \"\$(jq -r '.[\"talos-key-id\"]' '$work/body')\" = '$key_id' ]"
  read -r _ limited <<<"$(issue '{"name":"gw","actor_id":"gateway-actor","scopes":["read"],"rate_limit_policy":{"quota":"1","window":"3600s"}}')"
  first=$(status "$url" -H "Authorization: Bearer $limited")
  second=$(status "$url" -H "Authorization: Bearer $limited")
  if [ $gateway = nginx ]; then
    check "nginx: a rate-limited key is 403 (rate_limited_status=403)" test "$first:$second" = 200:403
  else
    check "caddy: a rate-limited key is 429 with Retry-After" \
      bash -c "[ '$first:$second' = 200:429 ] && grep -qi '^retry-after: [0-9]' '$work/headers'"
  fi
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $secret" \
  "http://127.0.0.1:$talos_port/v2alpha1/admin/apiKeys:authorize")
check "without the gateway's admin key, forward auth is refused (401 ADMIN_KEY_INVALID)" test "$code" = 401
echo "e2e-gateways: $passed passed, $failed failed"
[ "$failed" = 0 ]
