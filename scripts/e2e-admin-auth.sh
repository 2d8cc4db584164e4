#!/usr/bin/env bash
# Admin keys as an operator meets them (spec §16.3), against the real binary on SQLite:
#   - bootstrap with the server down (`talos admin-keys create|list|revoke`), the startup line naming admin_auth;
#   - every client command with --admin-key / TALOS_ADMIN_KEY, exit 1 naming the reason without one;
#   - audit events naming the admin key (admin_key_id, admin_key_name), the request log carrying admin_key_id, and
#     no admin secret in any log line at debug level;
#   - a revocation-feed stream ends when the admin key it was opened with is revoked or expires;
#   - failed authentications limited per client (429 after the burst, a valid key still served), counted in
#     talos_admin_authentications_total;
#   - `talos serve --dev` and config/oss.json with admin auth off, config/oel.json with it on; a reload turns it on.
#   scripts/e2e-admin-auth.sh [BINARY]
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
cd "$(dirname "$0")/.."
. scripts/lib.sh
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT
eq() { [ "$1" = "$2" ] || { echo "    expected '$2', got '$1'" >&2; return 1; }; }

export TALOS_SECRETS_HMAC_CURRENT="admin-auth-secret-that-is-long-enough-0123456789" TALOS_CREDENTIALS_ISSUER="https://admin.example.com"
export TALOS_DB_DSN="sqlite://$work/admin.db" TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_ADMIN_AUTH_ENABLED=true
export TALOS_SERVE_PUBLIC_RATE_LIMIT_BURST=5 TALOS_SERVE_PUBLIC_RATE_LIMIT_PER_SECOND=0.01

# Bootstrap before any server ran: the database is created and migrated by the command itself.
"$binary" admin-keys create root --permissions '*' --format json >"$work/root.json"
root=$(jq -r .secret "$work/root.json"); root_id=$(jq -r .admin_key.key_id "$work/root.json")
check "admin-keys create (no server, fresh database): a talos_adm secret with permission *" \
  eq "$(jq -r '.admin_key.permissions[0] + " " + .admin_key.status' "$work/root.json") ${root:0:13}" "* KEY_STATUS_ACTIVE talos_adm_v1_"
reader=$("$binary" admin-keys create reader --permissions keys.read --ttl 720h -q)
check "admin-keys list shows both, newest secrets never" eq "$("$binary" admin-keys list --format json | jq -r '[.admin_keys[].name] | sort | join(",")')$("$binary" admin-keys list --format json | grep -c talos_adm_v1_ || true)" "reader,root0"
check "admin-keys create refuses an unknown permission (exit 1)" bash -c "'$binary' admin-keys create x --permissions keys.delete >/dev/null 2>&1; test \$? = 1"

port=$(free_port); metrics=$(free_port)
TALOS_LOG_LEVEL=debug TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$metrics "$binary" serve >"$work/server.log" 2>&1 &
pids+=($!)
wait_alive "http://127.0.0.1:$port" "$work/server.log"
e=(-e "http://127.0.0.1:$port")
check "the startup line says admin_auth=on" grep -q '"admin_auth":"on"' "$work/server.log"
check "a client command without a key exits 1 naming ADMIN_KEY_REQUIRED" bash -c "'$binary' keys issued list ${e[*]} 2>&1 >/dev/null | grep -q ADMIN_KEY_REQUIRED; test \${PIPESTATUS[0]} = 1"
id=$("$binary" keys issue audited --actor ops "${e[@]}" --admin-key "$root" --format json | jq -r .issued_api_key.key_id)
check "keys issue --admin-key" bash -c "[[ '$id' =~ ^[0-9a-f-]{36}$ ]]"
check "TALOS_ADMIN_KEY: keys issued get" eq "$(TALOS_ADMIN_KEY=$reader "$binary" keys issued get "$id" "${e[@]}" --format 'jsonpath={.name}')" audited
check "a keys.read key cannot revoke: exit 1 naming ADMIN_PERMISSION_REQUIRED" bash -c "TALOS_ADMIN_KEY='$reader' '$binary' keys revoke '$id' --reason key_compromise ${e[*]} 2>&1 | grep -q ADMIN_PERMISSION_REQUIRED"
check "the audit event names the admin key" bash -c "grep '\"event\":\"issued_api_key.created\"' '$work/server.log' | grep '\"admin_key_id\":\"$root_id\"' | grep -q '\"admin_key_name\":\"root\"'"
check "the request log carries admin_key_id" bash -c "grep '\"msg\":\"request completed\"' '$work/server.log' | grep -q '\"admin_key_id\":\"$root_id\"'"

# Revoke with the CLI straight in the database (cache off here: a running SQLite server reads it at once).
reader_id=$("$binary" admin-keys list --format json | jq -r '.admin_keys[] | select(.name == "reader") | .key_id')
check "admin-keys revoke with the server running" bash -c "'$binary' admin-keys revoke '$reader_id' --format json | jq -e '.admin_key.status == \"KEY_STATUS_REVOKED\"' >/dev/null"
check "… and the key is refused (401 ADMIN_KEY_INVALID)" eq "$(curl -s -H "Authorization: Bearer $reader" "http://127.0.0.1:$port/v2alpha1/admin/issuedApiKeys" | jq -r '.error.details[0].reason')" ADMIN_KEY_INVALID

# A revocation-feed stream opened with an admin key ends when the key is revoked, or when it expires.
watch() { # secret → seconds until the stream ended (at most 10)
  local started=$SECONDS
  curl -sN --max-time 10 -H "Authorization: Bearer $1" "http://127.0.0.1:$port/v2alpha1/admin/revocations:watch" >/dev/null || true
  echo $((SECONDS - started))
}
api() { curl -s -H "Authorization: Bearer $root" -H 'Content-Type: application/json' "$@"; }
watcher=$(api -X POST "http://127.0.0.1:$port/v2alpha1/admin/adminKeys" -d '{"name":"watcher","permissions":["revocations.watch"]}')
watch "$(jq -r .secret <<<"$watcher")" >"$work/watch-revoked" &
watch_pid=$!
sleep 1
api -X POST "http://127.0.0.1:$port/v2alpha1/admin/adminKeys/$(jq -r .admin_key.key_id <<<"$watcher"):revoke" >/dev/null
wait $watch_pid
check "a feed stream ends when its admin key is revoked (within 1 s of the revocation)" test "$(cat "$work/watch-revoked")" -le 2
brief=$(api -X POST "http://127.0.0.1:$port/v2alpha1/admin/adminKeys" -d '{"name":"brief","permissions":["revocations.watch"],"ttl":"3s"}' | jq -r .secret)
lasted=$(watch "$brief")
check "a feed stream ends when its admin key expires (3 s key: ${lasted} s)" bash -c "[ $lasted -ge 2 ] && [ $lasted -le 4 ]"

# Failed authentications: a burst of 5, of which the CLI call without a key and the revoked key spent 2; then 429,
# while a valid key is still served.
codes=""
for _ in 1 2 3 4 5 6 7; do codes+="$(curl -s -o /dev/null -w '%{http_code} ' -H 'Authorization: Bearer talos_adm_v1_wrong_wrong' "http://127.0.0.1:$port/v2alpha1/admin/issuedApiKeys")"; done
check "failed authentications: 401 for the rest of the burst, then 429" eq "$codes" "401 401 401 429 429 429 429 "
check "… while a valid key from the same client is served" eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $root" "http://127.0.0.1:$port/v2alpha1/admin/issuedApiKeys")" 200
curl -s "http://127.0.0.1:$metrics/metrics" >"$work/metrics.txt"
check "talos_admin_authentications_total counts valid, missing, invalid, denied, limited" bash -c "for r in valid missing invalid denied limited; do grep -q \"talos_admin_authentications_total{result=\\\"\$r\\\"}\" '$work/metrics.txt' || exit 1; done"
check "no verification counted for admin authentications" bash -c "! grep -q 'talos_verifications_total{.*type=\"admin\"' '$work/metrics.txt'"

check "no admin secret in any log line (debug level)" bash -c "! grep -qF -e '$root' -e '$reader' '$work/server.log'"
check "no 500 in the log" bash -c "! grep -q '\"status\":\"500\"' '$work/server.log'"

# Profiles: --dev and oss.json off, oel.json on.
check "config/oel.json turns admin auth on" bash -c "jq -e '.serve.admin.auth.enabled == true' config/oel.json >/dev/null"
dev_port=$(free_port)
echo '{}' >"$work/dev.json"
(cd "$work" && exec env -u TALOS_SERVE_ADMIN_AUTH_ENABLED -u TALOS_SECRETS_HMAC_CURRENT TALOS_DB_DSN="sqlite://$work/dev.db" \
  TALOS_SERVE_HTTP_PORT=$dev_port TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve --dev --config "$work/dev.json" \
  >"$work/dev.log" 2>&1) &
dev_pid=$!
pids+=($dev_pid)
wait_alive "http://127.0.0.1:$dev_port" "$work/dev.log"
check "serve --dev: admin_auth=off and the admin surface open" bash -c "grep -q '\"admin_auth\":\"off\"' '$work/dev.log' && test \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$dev_port/v2alpha1/admin/issuedApiKeys)\" = 200"
# serve.admin.auth.enabled is hot-reloadable: SIGHUP after the file turns it on, and the admin surface closes.
echo '{"serve":{"admin":{"auth":{"enabled":true}}}}' >"$work/dev.json"
kill -HUP "$dev_pid"
reloaded=""
for _ in $(seq 1 50); do
  reloaded=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dev_port/v2alpha1/admin/issuedApiKeys")
  [ "$reloaded" = 401 ] && break
  sleep 0.1
done
check "a reload turns admin auth on without a restart (401 after SIGHUP)" eq "$reloaded" 401
oss_port=$(free_port)
(cd "$work" && env -u TALOS_SERVE_ADMIN_AUTH_ENABLED TALOS_DB_DSN="sqlite://$work/oss.db" TALOS_SERVE_HTTP_PORT=$oss_port \
  TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve --config "$OLDPWD/config/oss.json" >"$work/oss.log" 2>&1) &
pids+=($!)
wait_alive "http://127.0.0.1:$oss_port" "$work/oss.log"
check "config/oss.json: admin_auth=off" grep -q '"admin_auth":"off"' "$work/oss.log"

echo "e2e-admin-auth: $passed passed, $failed failed"
test "$failed" = 0
