#!/usr/bin/env bash
# Walks every endpoint of spec §3 with curl (and the CLI) against the real binary, asserting each answer;
# then runs `serve admin` and `serve public` as separate processes and checks each refuses the other surface.
#   scripts/e2e-api.sh [BINARY]
# With E2E_ADMIN_AUTH=1 the same walk runs with serve.admin.auth.enabled (spec §16.3): an admin key is bootstrapped
# with `talos admin-keys create` before the server starts, curl sends it as a Bearer token and the CLI reads
# TALOS_ADMIN_KEY; the admin surface then refuses requests without it.
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
eq() { [ "$1" = "$2" ] || { echo "    expected '$2', got '$1'" >&2; return 1; }; }
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

export TALOS_SECRETS_HMAC_CURRENT="api-walk-secret-that-is-long-enough-0123" TALOS_CREDENTIALS_ISSUER="https://walk.example.com"
export TALOS_DB_DSN="sqlite://$work/walk.db" TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_LOG_LEVEL=warn
ed=$("$binary" jwk generate eddsa --kid ed --base64)
rsa=$("$binary" jwk generate rsa --kid rsa --bits 2048 --base64)
check "jwk generate prints base64:// URLs" bash -c "[[ '$ed' == base64://* && '$rsa' == base64://* ]]"
export TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS="$ed,$rsa"
auth=()
if [ "${E2E_ADMIN_AUTH:-0}" = 1 ]; then
  export TALOS_SERVE_ADMIN_AUTH_ENABLED=true
  TALOS_ADMIN_KEY=$("$binary" admin-keys create walker --permissions '*' -q)
  export TALOS_ADMIN_KEY
  check "admin-keys create (server down) prints a talos_adm secret" bash -c "[[ '$TALOS_ADMIN_KEY' == talos_adm_v1_* ]]"
  auth=(-H "Authorization: Bearer $TALOS_ADMIN_KEY")
fi
start() { # mode port → waits for /health/alive
  TALOS_SERVE_METRICS_PORT=$(free_port) "$binary" serve $1 >"$work/$1-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/health/alive" >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$work/$1-$2.log"; return 1
}
port=$(free_port)
TALOS_SERVE_HTTP_PORT=$port start "" "$port"
u="http://127.0.0.1:$port/v2alpha1"
call() { curl -s -o "$work/body" -w '%{http_code}' "${auth[@]}" -X "$1" "$u$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
body() { jq -r "$1" "$work/body"; }

# Issued keys (§3.1–3.6).
check "issue → 201" eq "$(call POST /admin/issuedApiKeys '{"name":"walk","actor_id":"walker","scopes":["read","write"],"ttl":"24h","metadata":{"team":"qa"}}')" 201
secret=$(body .secret); id=$(body .issued_api_key.key_id)
check "get issued" eq "$(call GET "/admin/issuedApiKeys/$id")$(body .metadata.team)" 200qa
check "list issued with filter" eq "$(call GET '/admin/issuedApiKeys?filter=actor_id%3D%22walker%22')$(body '.issued_api_keys | length')" 2001
check "update issued (wrapped body, mask)" eq "$(call PATCH "/admin/issuedApiKeys/$id?update_mask=name" '{"issued_api_key":{"name":"renamed"}}')$(body .name)" 200renamed
check "rotate → 201 with the old key revoked" eq "$(call POST "/admin/issuedApiKeys/$id:rotate" '{}')$(body .old_issued_api_key.status)" 201KEY_STATUS_REVOKED
rotated=$(body .secret); rotated_id=$(body .issued_api_key.key_id)
check "revoke via issuedApiKeys/{id}:revoke → 204" eq "$(call POST "/admin/issuedApiKeys/$rotated_id:revoke" '{"reason":"REVOCATION_REASON_SUPERSEDED"}')" 204
check "revoke again → 409" eq "$(call POST "/admin/apiKeys/$rotated_id:revoke" '{"reason":"REVOCATION_REASON_SUPERSEDED"}')$(body '.error.details[0].reason')" 409API_KEY_ALREADY_REVOKED

# Imported keys (§3.7–3.12).
check "import → 201 with the §4.5 key id" eq "$(call POST /admin/importedApiKeys '{"raw_key":"sk_live_abc123","name":"External key","actor_id":"user_123","scopes":["read"]}')$(body .key_id)" 2018b6e68c91ff92f37e4aa41a5202093abd1400dfd5246649694b710b31bbca063
imported=8b6e68c91ff92f37e4aa41a5202093abd1400dfd5246649694b710b31bbca063
check "import duplicate → 409" eq "$(call POST /admin/importedApiKeys '{"raw_key":"sk_live_abc123","name":"x","actor_id":"y"}')" 409
check "import an issued-looking key → 409 IMPORT_FORMAT_CONFLICT" eq "$(call POST /admin/importedApiKeys "{\"raw_key\":\"$secret\",\"name\":\"x\",\"actor_id\":\"y\"}")$(body '.error.details[0].reason')" 409IMPORT_FORMAT_CONFLICT
check "batchCreate: partial success" eq "$(call POST /admin/importedApiKeys:batchCreate '{"requests":[{"raw_key":"key_1","name":"Key 1","actor_id":"user_1"},{"raw_key":"key_1","name":"Dup","actor_id":"user_1"}]}')$(body '.success_count,.failure_count,.results[1].error_code' | tr '\n' ' ')" "2001 1 BATCH_CREATE_IMPORTED_API_KEYS_ERROR_ALREADY_EXISTS "
check "batchImport alias" eq "$(call POST /admin/importedApiKeys:batchImport '{"requests":[{"raw_key":"key_2","name":"Key 2","actor_id":"user_1"}]}')$(body .success_count)" 2001
check "get imported" eq "$(call GET "/admin/importedApiKeys/$imported")$(body .name)" "200External key"
check "list imported" eq "$(call GET /admin/importedApiKeys?page_size=2)$(body '.imported_api_keys | length')" 2002
check "update imported" eq "$(call PATCH "/admin/importedApiKeys/$imported?update_mask=ip_restriction" '{"imported_api_key":{"ip_restriction":{"allowed_cidrs":["127.0.0.1/8"]}}}')$(body '.ip_restriction.allowed_cidrs[0]')" 200127.0.0.0/8
check "verify imported" eq "$(call POST /admin/apiKeys:verify '{"credential":"sk_live_abc123"}')$(body .is_valid)" 200true
check "revoke imported via importedApiKeys/{id}:revoke" eq "$(call POST "/admin/importedApiKeys/$imported:revoke" '{"reason":"REVOCATION_REASON_KEY_COMPROMISE"}')" 204
check "delete imported → 204, then 404" eq "$(call DELETE "/admin/importedApiKeys/$imported")$(call DELETE "/admin/importedApiKeys/$imported")" 204404

# Derived tokens (§3.13–3.16).
check "derive from a revoked key → 403" eq "$(call POST /admin/apiKeys:derive "{\"credential\":\"$rotated\"}")$(body '.error.details[0].reason')" 403PARENT_KEY_REVOKED
call POST /admin/issuedApiKeys '{"name":"parent","actor_id":"walker","scopes":["read","write"],"ttl":"24h"}' >/dev/null
secret=$(body .secret); id=$(body .issued_api_key.key_id)
check "derive from a valid key" eq "$(call POST /admin/apiKeys:derive "{\"credential\":\"$secret\",\"ttl\":\"15m\",\"scopes\":[\"read\"],\"audiences\":[\"edge\"],\"custom_claims\":{\"role\":\"viewer\"}}")" 200
jwt=$(body .token.token)
check "JWT header names the EdDSA key" eq "$(cut -d. -f1 <<<"$jwt" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .alg)" EdDSA
check "verify JWT with expected audience" eq "$(call POST /admin/apiKeys:verify "{\"credential\":\"$jwt\",\"expected_audiences\":[\"edge\"]}")$(body '.is_valid,.audiences[0]' | tr '\n' ' ')" "200true edge "
check "JWT without expected audience → AUDIENCE_MISMATCH" eq "$(call POST /admin/apiKeys:verify "{\"credential\":\"$jwt\"}")$(body .error_code)" 200VERIFICATION_ERROR_AUDIENCE_MISMATCH
check "derive macaroon" eq "$(call POST /admin/apiKeys:derive "{\"credential\":\"$secret\",\"algorithm\":\"TOKEN_ALGORITHM_MACAROON\"}")" 200
macaroon=$(body .token.token)
check "batchVerify: key, JWT, macaroon, garbage" eq "$(call POST /admin/apiKeys:batchVerify "{\"requests\":[{\"credential\":\"$secret\"},{\"credential\":\"$jwt\",\"expected_audiences\":[\"edge\"]},{\"credential\":\"$macaroon\"},{\"credential\":\"nope\"}]}")$(body '[.results[].is_valid] | join(",")')" 200true,true,true,false
check "JWKS (public path) has both keys" eq "$(call GET /derivedKeys/jwks.json)$(body '[.jwks.keys[].kid] | join(",")')" 200ed,rsa
check "JWKS has no private parts" eq "$(body '[.jwks.keys[] | has("d")] | any')" false
check "JWKS (admin path)" eq "$(call GET /admin/derivedKeys/jwks.json)$(body '.jwks.keys | length')" 2002
check "self-revoke a derived token → 400" eq "$(call POST /apiKeys:selfRevoke "{\"credential\":\"$jwt\",\"reason\":\"REVOCATION_REASON_KEY_COMPROMISE\"}")$(body '.error.details[0].reason')" 400DERIVED_TOKEN_NOT_REVOCABLE

# The CLI over the same endpoints.
e=(-e "http://127.0.0.1:$port")
check "keys imported import (stdin) --format jsonpointer" eq "$(echo ghp_walk | "$binary" keys imported import - --name gh --actor cli --format jsonpointer=/key_id "${e[@]}" | wc -c)" 65
check "keys issued list --all follows every page" eq "$("$binary" keys issued list --all --page-size 1 -q "${e[@]}" | wc -l)" "$(curl -s "${auth[@]}" "$u/admin/issuedApiKeys" | jq '.issued_api_keys | length')"
check "keys imported list --quiet" eq "$("$binary" keys imported list -q "${e[@]}" | wc -l)" 3
check "keys derive-token --quiet | keys verify" "$binary" keys verify "$("$binary" keys derive-token "$secret" --algorithm macaroon -q "${e[@]}")" "${e[@]}" -q
check "keys batch-verify exits 1 when one is invalid" bash -c "! '$binary' keys batch-verify '$secret' nope -q ${e[*]}"
check "keys issued get --format yaml" bash -c "'$binary' keys issued get '$id' --format yaml ${e[*]} | grep -q '\"actor_id\": \"walker\"'"
check "keys issued get --format jsonpath" eq "$("$binary" keys issued get "$id" --format 'jsonpath={.actor_id}' "${e[@]}")" walker
check "jwk get" eq "$("$binary" jwk get --format json "${e[@]}" | jq -r '.keys[0].kid')" ed
check "keys self-revoke" "$binary" keys self-revoke "$secret" --reason key_compromise -q "${e[@]}"
check "health, ready, version" eq "$(curl -s "http://127.0.0.1:$port/health/ready" | jq -r .status)$(curl -s "http://127.0.0.1:$port/version" | jq -r .version | grep -c .)" ok1

# Server modes (§3): separate admin and public processes.
admin_port=$(free_port) public_port=$(free_port)
TALOS_SERVE_HTTP_PORT=$admin_port start admin "$admin_port"
TALOS_SERVE_HTTP_PORT=$public_port start public "$public_port"
code() { curl -s -o "$work/body" -w '%{http_code}' "${auth[@]}" "$@"; }
check "admin mode: admin surface works" eq "$(code "http://127.0.0.1:$admin_port/v2alpha1/admin/issuedApiKeys")" 200
check "admin mode: selfRevoke → 501" eq "$(code -X POST "http://127.0.0.1:$admin_port/v2alpha1/apiKeys:selfRevoke" -d '{}')$(body '.error.details[0].reason')" 501UNIMPLEMENTED
check "public mode: admin surface → 501" eq "$(code "http://127.0.0.1:$public_port/v2alpha1/admin/issuedApiKeys")" 501
check "public mode: JWKS served" eq "$(code "http://127.0.0.1:$public_port/v2alpha1/derivedKeys/jwks.json")" 200
check "public mode: selfRevoke served" eq "$(code -X POST "http://127.0.0.1:$public_port/v2alpha1/apiKeys:selfRevoke" -d '{"credential":"nope","reason":"REVOCATION_REASON_SUPERSEDED"}')" 404
check "RSA keys with libsodium fail at startup naming the kid" bash -c "TALOS_CRYPTO_BACKEND=libsodium TALOS_SERVE_METRICS_PORT=$(free_port) TALOS_SERVE_HTTP_PORT=$(free_port) '$binary' serve 2>&1 | grep -q 'RSA key \"rsa\" needs crypto.backend openssl'"

if [ "${E2E_ADMIN_AUTH:-0}" = 1 ]; then
  check "auth on: the admin surface refuses a request without the key" eq "$(curl -s -o "$work/body" -w '%{http_code}' "$u/admin/issuedApiKeys")$(body '.error.details[0].reason')" 401ADMIN_KEY_REQUIRED
  check "auth on: the CLI without a key exits 1 naming the reason" bash -c "env -u TALOS_ADMIN_KEY '$binary' keys issued list ${e[*]} 2>&1 >/dev/null | grep -q ADMIN_KEY_REQUIRED"
fi

echo "e2e-api${E2E_ADMIN_AUTH:+ (admin auth ${E2E_ADMIN_AUTH})}: $passed passed, $failed failed"
test "$failed" = 0
