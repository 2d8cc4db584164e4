#!/usr/bin/env bash
# The web console (docs/console.md) in headless Chromium (Debian's chromium and chromium-driver, Selenium from the
# tools venv) against the real binary: one server with admin authentication on (an admin key with '*' and one with
# keys.read only, made by `talos admin-keys create`), one without. The walk itself is scripts/console-check.py.
# Screenshots go to CONSOLE_SCREENSHOTS (default: a temporary directory, removed afterwards).
#   scripts/e2e-console.sh BINARY TOOLS_BIN
set -euo pipefail
binary=$(realpath "$1")
tools=$2
root=$(realpath "$(dirname "$0")/..")
. "$root/scripts/lib.sh"
for tool in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$tool" ] || { echo "$tool not found (apt-get install chromium chromium-driver)" >&2; exit 2; }
done
work=$(mktemp -d)
shots=${CONSOLE_SCREENSHOTS:-$work/screenshots}
mkdir -p "$shots"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

export TALOS_SECRETS_HMAC_CURRENT="console-secret-that-is-long-enough-0123456789"
export TALOS_CREDENTIALS_ISSUER="https://console.example.com"
export TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_METRICS_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
export TALOS_CACHE_TYPE=memory TALOS_CACHE_ENABLED=true TALOS_USAGE_FLUSH_INTERVAL=1s
TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS=$("$binary" jwk generate eddsa --kid console --base64)
export TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS
start() { # name port auth → URL on stdout
  TALOS_DB_DSN="sqlite://$work/$1.db" TALOS_SERVE_HTTP_PORT=$2 TALOS_SERVE_METRICS_PORT=$(free_port) \
    TALOS_SERVE_ADMIN_AUTH_ENABLED=$3 "$binary" serve >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_alive "http://127.0.0.1:$2" "$work/$1.log" >&2
}
TALOS_DB_DSN="sqlite://$work/auth.db" "$binary" migrate up >/dev/null
admin_key=$(TALOS_DB_DSN="sqlite://$work/auth.db" "$binary" admin-keys create console --permissions '*' -q)
reader_key=$(TALOS_DB_DSN="sqlite://$work/auth.db" "$binary" admin-keys create reader --permissions keys.read -q)
auth_port=$(free_port); open_port=$(free_port)
start auth "$auth_port" true
start open "$open_port" false

"$tools/python" "$root/scripts/console-check.py" "http://127.0.0.1:$auth_port" "$admin_key" "$reader_key" \
  "http://127.0.0.1:$open_port" "$shots" | tee "$work/console.txt"
status=${PIPESTATUS[0]}
[ -z "${CONSOLE_SCREENSHOTS:-}" ] || echo "screenshots in $shots: $(ls "$shots" | tr '\n' ' ')"
# The console's answers carry the policy of docs/console.md and set no cookie.
headers=$(curl -s -D - -o /dev/null "http://127.0.0.1:$auth_port/console/")
. "$root/scripts/lib.sh"  # fresh counters for the header checks
check "the console page carries the Content-Security-Policy" \
  grep -q "^Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" <<<"$headers"
check "no cookie is set" bash -c "! grep -qi '^set-cookie' <<<\"\$1\"" _ "$headers"
check "the page has no inline script or style" bash -c "! curl -s 'http://127.0.0.1:$auth_port/console/' | grep -qiE '<script>|<script [^>]*>[^<]|style=|<style'"
public_port=$(free_port)
TALOS_DB_DSN="sqlite://$work/open.db" TALOS_SERVE_HTTP_PORT=$public_port TALOS_SERVE_METRICS_PORT=$(free_port) \
  "$binary" serve public >"$work/public.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$public_port" "$work/public.log"
check "serve public does not serve the console (501, like the rest of the admin surface)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$public_port/console/")" = 501
disabled_port=$(free_port)
TALOS_DB_DSN="sqlite://$work/open.db" TALOS_SERVE_HTTP_PORT=$disabled_port TALOS_SERVE_METRICS_PORT=$(free_port) \
  TALOS_SERVE_CONSOLE_ENABLED=false "$binary" serve >"$work/disabled.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$disabled_port" "$work/disabled.log"
check "serve.console.enabled=false: no console (404)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$disabled_port/console/")" = 404
echo "e2e-console (headers): $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
