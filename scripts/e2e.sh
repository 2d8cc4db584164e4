#!/usr/bin/env bash
# End-to-end: starts `talos serve --dev` on a fresh SQLite file on a free loopback port, runs the quickstart and a few
# wire checks with curl, then stops the server with SIGTERM and checks it exits 0.
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
scripts=$(realpath "$(dirname "$0")")
workdir=$(mktemp -d)
. "$scripts/lib.sh"
port=$(free_port)
metrics_port=$(free_port)
export TALOS_URL="http://127.0.0.1:$port"

# No serve.http.host here: --dev itself must choose loopback (spec §16.2).
(cd "$workdir" && TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$metrics_port exec "$binary" serve --dev) \
  >"$workdir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$workdir"' EXIT
wait_alive "$TALOS_URL"
listening() { # port → the addresses listening on it, from /proc/net/tcp{,6}
  python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
found = []
for path, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
    try:
        lines = open(path).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state != "0A" or int(hex_port, 16) != port:
            continue
        raw = bytes.fromhex(address)
        # /proc prints each 32-bit word in host (little-endian) order.
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
        found.append(socket.inet_ntop(family, raw))
print(" ".join(sorted(found)) or "nothing")
PY
}
check "--dev listens on loopback only ($(listening "$port"))" test "$(listening "$port")" = 127.0.0.1
check "… and so does its metrics listener ($(listening "$metrics_port"))" test "$(listening "$metrics_port")" = 127.0.0.1

mkdir -p "$workdir/bin" && ln -s "$binary" "$workdir/bin/talos"
check "quickstart" env PATH="$workdir/bin:$PATH" "$scripts/quickstart.sh"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
reason() { curl -s "$@" | jq -r '.error.details[0].reason'; }
check "ready is 200" test "$(status "$TALOS_URL/health/ready")" = 200
# The cross-site no-cors POST any web page can send (spec §16.1), and a DNS-rebinding Host (§16.2).
planted=$(curl -s -w ' %{http_code}' -X POST "$TALOS_URL/v2alpha1/admin/importedApiKeys" -H 'Origin: http://evil.example' \
  -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: no-cors' -H 'Content-Type: text/plain' \
  -d '{"name":"x","actor_id":"evil","raw_key":"planted-by-a-web-page-0123456789"}')
check "a cross-site text/plain import is 403 CROSS_ORIGIN_REQUEST" \
  test "$(jq -r .error.details[0].reason <<<"${planted% *}") ${planted##* }" = "CROSS_ORIGIN_REQUEST 403"
check "… and the planted key does not verify" test "$(curl -s -X POST "$TALOS_URL/v2alpha1/admin/apiKeys:verify" \
  -d '{"credential":"planted-by-a-web-page-0123456789"}' | jq -r .is_valid)" = false
check "a rebinding Host: attacker.example is 421 HOST_NOT_ALLOWED" \
  test "$(status -H 'Host: attacker.example' "$TALOS_URL/v2alpha1/admin/issuedApiKeys") $(reason -H 'Host: attacker.example' "$TALOS_URL/v2alpha1/admin/issuedApiKeys")" = "421 HOST_NOT_ALLOWED"
check "… while localhost is served, and health answers any host" \
  test "$(status -H "Host: localhost:$port" "$TALOS_URL/v2alpha1/admin/issuedApiKeys") $(status -H 'Host: attacker.example' "$TALOS_URL/health/alive")" = "200 200"
check "unknown route is 404 NOT_FOUND" test "$(reason "$TALOS_URL/nope")" = NOT_FOUND
check "wrong method is 405" test "$(status -X DELETE "$TALOS_URL/v2alpha1/admin/issuedApiKeys")" = 405
check "malformed JSON is 400 MALFORMED_REQUEST" test "$(reason -X POST "$TALOS_URL/v2alpha1/admin/issuedApiKeys" -d '{')" = MALFORMED_REQUEST
check "oversized body is 413" test "$(head -c 1100000 /dev/zero | tr '\0' a | status -X POST --data-binary @- "$TALOS_URL/v2alpha1/admin/apiKeys:verify")" = 413
check "%3A is accepted as :" test "$(curl -s -X POST "$TALOS_URL/v2alpha1/admin/apiKeys%3Averify" -d '{"credential":"x"}' | jq -r .error_code)" = VERIFICATION_ERROR_NOT_FOUND
check "request id is echoed" grep -qi '^x-request-id: e2e-1' <(curl -s -D - -o /dev/null -H 'X-Request-ID: e2e-1' "$TALOS_URL/version")
check "CLI exit code 2 on usage error" bash -c "\"$binary\" keys issue 2>/dev/null; test \$? = 2"
check "CLI exit code 1 on API error" bash -c "\"$binary\" keys issued get 00000000-0000-4000-8000-000000000000 -e $TALOS_URL 2>/dev/null; test \$? = 1"

# Hot reload: a --config server picks up a new key prefix on SIGHUP and rejects an invalid file, keeping the old one.
reload_port=$(free_port)
reload_url="http://127.0.0.1:$reload_port"
config="$workdir/reload.json"
write_config() { printf '{"serve":{"http":{"host":"127.0.0.1","port":%s}},"credentials":{"issuer":"http://reload","api_keys":{"prefix":{"current":"%s"}}},"db":{"dsn":"sqlite://%s/reload.db"}}' "$reload_port" "$1" "$workdir" >"$config"; }
write_config first
TALOS_SERVE_METRICS_PORT=$(free_port) \
  TALOS_SECRETS_HMAC_CURRENT=reload-secret-that-is-long-enough-012345 "$binary" serve --config "$config" >"$workdir/reload.log" 2>&1 &
reload_server=$!
wait_alive "$reload_url"
issue_prefix() { curl -s -X POST "$reload_url/v2alpha1/admin/issuedApiKeys" -d '{"name":"r","actor_id":"r"}' | jq -r .secret | cut -d_ -f1; }
check "config prefix in force" test "$(issue_prefix)" = first
write_config second && kill -HUP $reload_server && sleep 0.5
check "SIGHUP reloads the prefix" test "$(issue_prefix)" = second
echo '{"unknown_key":1}' >"$config" && kill -HUP $reload_server && sleep 0.5
check "an invalid file is rejected and the old config kept" test "$(issue_prefix)" = second
check "the rejection is logged" grep -q 'configuration reload rejected' "$workdir/reload.log"
kill -TERM $reload_server; wait $reload_server || true

used=$(curl -s -X POST "$TALOS_URL/v2alpha1/admin/issuedApiKeys" -d '{"name":"used","actor_id":"e2e"}')
curl -s -X POST "$TALOS_URL/v2alpha1/admin/apiKeys:verify" -d "{\"credential\":\"$(jq -r .secret <<<"$used")\"}" >/dev/null
kill -TERM $server
wait $server && code=0 || code=$?
check "SIGTERM exits 0" test "$code" = 0
(cd "$workdir" && TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$metrics_port exec "$binary" serve --dev) >>"$workdir/server.log" 2>&1 &
server=$!
wait_alive "$TALOS_URL"
check "last use flushed on shutdown" test "$(curl -s "$TALOS_URL/v2alpha1/admin/issuedApiKeys/$(jq -r .issued_api_key.key_id <<<"$used")" | jq -r '.last_used_time != null')" = true
kill -TERM $server; wait $server || true
check "no secret in the log" bash -c "! grep -q 'ory_ak_v1_' '$workdir/server.log'"
# The development secret is used only from a regular file of ours with mode 0600 (spec §16.16).
dev_secret=$(ls "$workdir"/*.dev-secret)
check "the development secret file is created with mode 0600" test "$(stat -c %a "$dev_secret")" = 600
dev_start() { (cd "$workdir" && TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$metrics_port timeout 5 "$binary" serve --dev) >"$workdir/dev-refused.log" 2>&1; }
dev_refused() { local rc=0; dev_start || rc=$?; test "$rc" != 0 -a "$rc" != 124; }  # 124: still serving at the timeout
chmod 644 "$dev_secret"
check "a group/world-readable development secret is a startup error" dev_refused
check "… that says why" grep -q 'has mode 644, not 0600' "$workdir/dev-refused.log"
chmod 600 "$dev_secret"
if [ "$(id -u)" = 0 ]; then
  chown nobody "$dev_secret"
  check "a development secret owned by another user is a startup error" dev_refused
  check "… that says why" grep -q 'not by the current user' "$workdir/dev-refused.log"
  chown root "$dev_secret"
fi
mv "$dev_secret" "$dev_secret.real"; ln -s "$dev_secret.real" "$dev_secret"
check "a symbolic link as development secret is a startup error" dev_refused
echo "e2e: $passed passed, $failed failed"
test "$failed" = 0
