#!/usr/bin/env bash
# No secret in any log, at any level, in any format (spec §16.11), checked on the real binary so that no single log
# path can fool it. Every run serves at log.level=debug with tracing (sample_rate 1) to a real OTLP receiver, a
# retired HMAC secret, a private JWT signing key set (Ed25519 and RSA, base64://), a Redis password and a memory
# cache, and walks every endpoint (successes and failures), two hot reloads by SIGHUP (one valid, two invalid files),
# /metrics, and SIGTERM. Runs: log.format json and text × secrets in the --config file and in TALOS_* variables, on
# SQLite and (when a DSN is given) on PostgreSQL with a role that has a password.
#
# Afterwards every needle — HMAC secrets current, retired and reloaded (and the keys derived from them), each private
# JWK member (d, p, q, dp, dq, qi; base64url as in the JWKS, standard base64 and hex) and the base64:// URLs that
# carry them, the DSN password (and a wrong one), the Redis password, every issued, rotated and self-revoked secret
# (and its checksum), every imported raw key, every wrong or unknown credential presented, every derived JWT (and its
# signature) and macaroon (and its signature) — is searched with grep -F in every captured file (server stdout and
# stderr, `migrate` output, the exported spans, whole and per span, the /metrics scrapes, the revocation feed) and in
# a decoded view of each file (JSON escapes undone, percent-decoding, base64/base64url tokens and printed byte arrays
# decoded). A leak names the needle, its first 6 characters, the file and the run.
#   scripts/e2e-secrets.sh BINARY TOOLS_BIN [POSTGRES_DSN]   (TOOLS_BIN from scripts/python-tools.sh; the DSN's role
#                                                            must be able to create roles and databases)
# E2E_SECRETS_KEEP=1 keeps the work directory (logs, needles) for inspection.
set -euo pipefail
binary=$(realpath "$1")
tools=$2
admin_dsn=${3:-}
scripts=$(realpath "$(dirname "$0")")
work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
pids=()
pg_cleanup=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for sql in "${pg_cleanup[@]}"; do psql "$admin_dsn" -qAt -c "$sql" >/dev/null 2>&1 || true; done
  if [ "${E2E_SECRETS_KEEP:-}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
needles="$work/needles.tsv" # KIND<TAB>VALUE, one a line
: >"$needles"
needle() { # KIND VALUE: a string that must never be printed; refuses empty or short values (a typo'd jq path)
  if [ "${#2}" -lt 12 ] || [ "$2" = null ]; then
    failed=$((failed + 1)); echo "FAIL - needle $1 is missing or too short (${#2} chars): the walk did not produce it"
    return 0
  fi
  printf '%s\t%s\n' "$1" "$2" >>"$needles"
}

# Static secrets and signing keys. HMAC secrets are alphanumeric, so no log format has to escape them; the DSN
# password is alphanumeric too (a percent-encoded one is covered by the decoded view).
"$tools/python" - "$work" >"$work/secrets.env" <<'PY'
import base64, hashlib, hmac, json, secrets, sys
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives import serialization
work = sys.argv[1]
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
b64 = lambda b: base64.b64encode(b).decode()
num = lambda n, size=None: n.to_bytes(size or (n.bit_length() + 7) // 8, "big")
out = open(f"{work}/needles.tsv", "a")
def needle(kind, value): out.write(f"{kind}\t{value}\n")
def byte_needles(kind, raw):  # the forms a printer may use for bytes
    needle(kind, b64u(raw)); needle(kind + ".b64", b64(raw)); needle(kind + ".hex", raw.hex())
values = {}
for name in ["HMAC_CURRENT", "HMAC_RETIRED_A", "HMAC_RETIRED_B", "HMAC_RELOADED"]:
    values[name] = "leak" + name.lower().replace("_", "") + secrets.token_hex(16)
    kind = "hmac." + name[5:].lower()
    needle(kind, values[name]); needle(kind + ".hex", values[name].encode().hex())
    # The keys derived from it (spec §4.6) are secrets too.
    root = hmac.new(values[name].encode(), b"talos/macaroon/v1/root-key", hashlib.sha256).digest()
    byte_needles(kind + ".macaroon_root_key", root)
    byte_needles(kind + ".pagination_key", hmac.new(values[name].encode(), b"talos/pagination/v1/cursor-key", hashlib.sha256).digest())
    byte_needles(kind + ".macaroon_signing_key", hmac.new(b"macaroons-key-generator", root, hashlib.sha256).digest())
for name in ["DSN_PASSWORD", "DSN_WRONG_PASSWORD", "REDIS_PASSWORD"]:
    values[name] = "leak" + name.lower().replace("_", "") + secrets.token_hex(12)
    needle(name.lower().replace("_", ".", 1), values[name])
ed = ed25519.Ed25519PrivateKey.generate()
Raw = serialization.Encoding.Raw
d = ed.private_bytes(Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
x = ed.public_key().public_bytes(Raw, serialization.PublicFormat.Raw)
ed_jwk = {"kty": "OKP", "crv": "Ed25519", "kid": "leak-ed", "use": "sig", "alg": "EdDSA", "x": b64u(x), "d": b64u(d)}
byte_needles("jwk.ed25519.d", d)
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
priv, pub = key.private_numbers(), key.public_key().public_numbers()
rsa_jwk = {"kty": "RSA", "kid": "leak-rsa", "use": "sig", "alg": "RS256", "n": b64u(num(pub.n)), "e": b64u(num(pub.e))}
for member, value in [("d", priv.d), ("p", priv.p), ("q", priv.q), ("dp", priv.dmp1), ("dq", priv.dmq1), ("qi", priv.iqmp)]:
    rsa_jwk[member] = b64u(num(value))
    byte_needles(f"jwk.rsa.{member}", num(value))
for name, jwk in [("ED", ed_jwk), ("RSA", rsa_jwk)]:
    encoded = b64u(json.dumps({"keys": [jwk]}, separators=(",", ":")).encode())
    values[f"{name}_URL"] = "base64://" + encoded
    needle(f"jwks_url.{name.lower()}", encoded)
for name, value in values.items():
    print(f"{name}={value}")
PY
. "$work/secrets.env"
# Public members must stay public: the JWKS endpoint's answer is compared to these.
ed_x=$(printf '%s' "${ED_URL#base64://}" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r '.keys[0].x' || true)

pg_host="" pg_port="" role=""
if [ -n "$admin_dsn" ]; then
  read -r pg_host pg_port <<<"$(python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(p.hostname, p.port or 5432)' "$admin_dsn")"
  role="leak_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
  psql "$admin_dsn" -qAt -v ON_ERROR_STOP=1 -c "CREATE ROLE $role LOGIN PASSWORD '$DSN_PASSWORD'" >/dev/null
  pg_cleanup+=("DROP ROLE IF EXISTS $role")
fi
pg_dsn() { # DB [PASSWORD] — with pool parameters, so that the DSN's query string is parsed (and logged) too
  echo "postgres://$role:${2:-$DSN_PASSWORD}@$pg_host:$pg_port/$1?sslmode=disable&pool_max_conns=5&max_conn_lifetime=1h"
}

# The configuration of one run: everything but the secrets, plus the secrets when SOURCE is file.
write_config() { # FILE SOURCE HMAC_CURRENT RETIRED_JSON [EXTRA_JSON]
  jq -n --arg port "$port" --arg mport "$metrics_port" --arg format "$format" --arg otlp "http://127.0.0.1:$otlp_port" \
    --arg service "talos-leak-$run" --arg backend "$rate_backend" --arg source "$2" --arg current "$3" \
    --argjson retired "$4" --arg ed "$ED_URL" --arg rsa "$RSA_URL" --arg dsn "$dsn" --arg redis "$REDIS_PASSWORD" \
    --argjson extra "${5:-{\}}" '
    {serve: {http: {host: "127.0.0.1", port: ($port | tonumber)}, metrics: {host: "127.0.0.1", port: ($mport | tonumber)}},
     log: {level: "debug", format: $format},
     credentials: {issuer: "https://leak.example.com", derived_tokens: {jwt: {signing_key_id: "leak-ed"}}},
     cache: {type: "memory", enabled: true},
     rate_limit: {enabled: true, backend: $backend},
     last_used: {flush_interval: "1s"},
     tracing: {enabled: true, endpoint: $otlp, sample_rate: 1, service_name: $service}}
    * (if $source == "file" then
        {secrets: {hmac: {current: $current, retired: $retired}},
         credentials: {derived_tokens: {jwt: {signing_keys: {urls: [$ed, $rsa]}}}},
         db: {dsn: $dsn}, cache: {redis: {password: $redis}}}
       else {} end)
    * $extra' >"$1"
}
secret_env=() # the TALOS_* variables of a run whose secrets come from the environment
retired_json=$(jq -n --arg a "$HMAC_RETIRED_A" --arg b "$HMAC_RETIRED_B" '[{value: $a, expires_at: "2099-01-01T00:00:00Z"}, $b]')

expected="" got=""
answer() { # NAME ACTUAL EXPECTED: records one endpoint's answer for the run's "answered as expected" check
  expected+="$1=$3 "; got+="$1=$2 "
  [ "$2" = "$3" ] || echo "    $run: $1 answered '$2', expected '$3'"
}
call() { # METHOD PATH [BODY [CURL ARGS...]] → HTTP status; the answer in $work/body (never scanned: answers may hold secrets)
  local method=$1 path=$2; shift 2
  local data=()
  if [ $# -gt 0 ]; then data=(-H 'Content-Type: application/json' --data-binary "$1"); shift; fi
  curl -s -o "$work/body" -w '%{http_code}' -X "$method" "$u$path" "${data[@]}" "$@" || echo 000
}
body() { jq -r "$1" "$work/body" 2>/dev/null || echo "unparsable"; }
wait_log() { # PATTERN COUNT: waits (≤ 5 s) until the server's stderr has COUNT lines matching PATTERN
  for _ in $(seq 1 50); do [ "$(grep -c "$1" "$rdir/stderr" || true)" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
raw_key() { echo "sk_leak_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"; }

walk() { # every endpoint, with failures; records each secret it sees as a needle
  u="http://127.0.0.1:$port"
  answer alive "$(call GET /health/alive)" 200
  answer ready "$(call GET /health/ready)" 200
  answer version "$(call GET /version)" 200
  answer openapi "$(call GET /openapi.json)" 200
  # The revocation feed, open while keys are revoked.
  curl -sN --max-time 20 "$u/v2alpha1/admin/revocations:watch" >"$rdir/feed.txt" 2>/dev/null &
  local feed=$!
  pids+=($feed)
  local a="$u/v2alpha1/admin"
  u="http://127.0.0.1:$port/v2alpha1"
  local s1 id1 s2 id2 s3 s4 id4 r4 wrong unknown jwt mac i1 i1id i2 i3 i4 i5
  answer issue "$(call POST /admin/issuedApiKeys '{"name":"leak","actor_id":"leaker","scopes":["read","write"],"ttl":"24h","metadata":{"team":"qa"}}')" 201
  s1=$(body .secret); id1=$(body .issued_api_key.key_id); needle "issued.secret[$run:s1]" "$s1"; needle "issued.checksum[$run:s1]" "${s1##*_}"
  call POST /admin/issuedApiKeys '{"name":"to-revoke","actor_id":"leaker"}' >/dev/null
  s2=$(body .secret); id2=$(body .issued_api_key.key_id); needle "issued.secret[$run:revoked]" "$s2"
  call POST /admin/issuedApiKeys '{"name":"to-self-revoke","actor_id":"leaker"}' >/dev/null
  s3=$(body .secret); needle "issued.secret[$run:self-revoked]" "$s3"
  call POST /admin/issuedApiKeys '{"name":"to-rotate","actor_id":"leaker"}' >/dev/null
  s4=$(body .secret); id4=$(body .issued_api_key.key_id); needle "issued.secret[$run:rotated-old]" "$s4"
  answer get "$(call GET "/admin/issuedApiKeys/$id1")" 200
  answer list "$(call GET '/admin/issuedApiKeys?page_size=1&filter=actor_id%3D%22leaker%22')" 200
  local token; token=$(body .next_page_token)
  answer list-next-page "$(call GET "/admin/issuedApiKeys?page_size=1&filter=actor_id%3D%22leaker%22&page_token=$token")" 200
  answer list-bad-page-token "$(call GET '/admin/issuedApiKeys?page_token=AAAAnotatoken')" 400
  answer update "$(call PATCH "/admin/issuedApiKeys/$id1?update_mask=name" '{"issued_api_key":{"name":"renamed"}}')" 200
  answer rotate "$(call POST "/admin/issuedApiKeys/$id4:rotate" '{}')" 201
  r4=$(body .secret); needle "rotated.secret[$run]" "$r4"; needle "rotated.checksum[$run]" "${r4##*_}"
  answer revoke "$(call POST "/admin/apiKeys/$id2:revoke" '{"reason":"REVOCATION_REASON_KEY_COMPROMISE"}')" 204
  answer revoke-again "$(call POST "/admin/issuedApiKeys/$id2:revoke" '{"reason":"REVOCATION_REASON_KEY_COMPROMISE"}')" 409
  answer self-revoke "$(call POST /apiKeys:selfRevoke "{\"credential\":\"$s3\",\"reason\":\"REVOCATION_REASON_KEY_COMPROMISE\"}")" 200
  # Imported keys: single, batch create, batch import, get, list, update, revoke, delete.
  i1=$(raw_key); i2=$(raw_key); i3=$(raw_key); i4=$(raw_key); i5=$(raw_key)
  local n=1; for k in "$i1" "$i2" "$i3" "$i4" "$i5"; do needle "imported.raw_key[$run:i$n]" "$k"; n=$((n + 1)); done
  answer import "$(call POST /admin/importedApiKeys "{\"raw_key\":\"$i1\",\"name\":\"ext\",\"actor_id\":\"leaker\",\"scopes\":[\"read\"]}")" 201
  i1id=$(body .key_id)
  answer import-duplicate "$(call POST /admin/importedApiKeys "{\"raw_key\":\"$i1\",\"name\":\"dup\",\"actor_id\":\"leaker\"}")" 409
  answer import-issued-looking "$(call POST /admin/importedApiKeys "{\"raw_key\":\"$s1\",\"name\":\"x\",\"actor_id\":\"y\"}")" 409
  answer batch-create "$(call POST /admin/importedApiKeys:batchCreate "{\"requests\":[{\"raw_key\":\"$i2\",\"name\":\"b\",\"actor_id\":\"leaker\"},{\"raw_key\":\"$i2\",\"name\":\"dup\",\"actor_id\":\"leaker\"}]}")$(body .success_count)" 2001
  answer batch-import "$(call POST /admin/importedApiKeys:batchImport "{\"requests\":[{\"raw_key\":\"$i3\",\"name\":\"c\",\"actor_id\":\"leaker\"}]}")$(body .success_count)" 2001
  answer get-imported "$(call GET "/admin/importedApiKeys/$i1id")" 200
  answer list-imported "$(call GET /admin/importedApiKeys?page_size=2)" 200
  answer update-imported "$(call PATCH "/admin/importedApiKeys/$i1id?update_mask=name" '{"imported_api_key":{"name":"renamed"}}')" 200
  answer verify-imported "$(call POST /admin/apiKeys:verify "{\"credential\":\"$i1\"}")$(body .is_valid)" 200true
  answer revoke-imported "$(call POST "/admin/importedApiKeys/$i1id:revoke" '{"reason":"REVOCATION_REASON_SUPERSEDED"}')" 204
  answer verify-revoked-imported "$(call POST /admin/apiKeys:verify "{\"credential\":\"$i1\"}")$(body .is_valid)" 200false
  answer delete-imported "$(call DELETE "/admin/importedApiKeys/$i1id")$(call DELETE "/admin/importedApiKeys/$i1id")" 204404
  # Verification: valid (body, and with the credential also in headers), wrong checksum, unknown, revoked, rotated.
  answer verify "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s1\"}" -H "Authorization: Bearer $s1" -H "X-API-Key: $s1")$(body .is_valid)" 200true
  answer verify-cached "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s1\"}")$(body .is_valid)" 200true
  wrong="${s1%_*}_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"; needle "credential.wrong[$run]" "$wrong"
  unknown="sk_unknown_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"; needle "credential.unknown[$run]" "$unknown"
  answer verify-wrong "$(call POST /admin/apiKeys:verify "{\"credential\":\"$wrong\"}")$(body .is_valid)" 200false
  answer verify-unknown "$(call POST /admin/apiKeys:verify "{\"credential\":\"$unknown\"}")$(body .error_code)" 200VERIFICATION_ERROR_NOT_FOUND
  answer verify-revoked "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s2\"}")$(body .error_code)" 200VERIFICATION_ERROR_REVOKED
  answer verify-self-revoked "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s3\"}")$(body .error_code)" 200VERIFICATION_ERROR_REVOKED
  answer verify-rotated-old "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s4\"}")$(body .error_code)" 200VERIFICATION_ERROR_REVOKED
  answer verify-rotated-new "$(call POST /admin/apiKeys:verify "{\"credential\":\"$r4\"}")$(body .is_valid)" 200true
  # Derived tokens: JWT (EdDSA, custom claims), macaroon, from a revoked parent; verify them; the JWKS.
  answer derive-jwt "$(call POST /admin/apiKeys:derive "{\"credential\":\"$s1\",\"ttl\":\"15m\",\"scopes\":[\"read\"],\"audiences\":[\"edge\"],\"custom_claims\":{\"role\":\"viewer\"}}")" 200
  jwt=$(body .token.token); needle "derived.jwt[$run]" "$jwt"; needle "derived.jwt_signature[$run]" "${jwt##*.}"
  answer derive-macaroon "$(call POST /admin/apiKeys:derive "{\"credential\":\"$s1\",\"algorithm\":\"TOKEN_ALGORITHM_MACAROON\"}")" 200
  mac=$(body .token.token); needle "derived.macaroon[$run]" "$mac"
  local sig; sig=$(python3 -c 'import base64, sys; t=sys.argv[1].split("_v1_", 1)[1]; b=base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))[-32:]; print(b.hex(), base64.urlsafe_b64encode(b).rstrip(b"=").decode())' "$mac" || echo "- -")
  needle "derived.macaroon_signature.hex[$run]" "${sig% *}"; needle "derived.macaroon_signature[$run]" "${sig#* }"
  answer derive-from-revoked "$(call POST /admin/apiKeys:derive "{\"credential\":\"$s2\"}")" 403
  answer derive-wrong "$(call POST /admin/apiKeys:derive "{\"credential\":\"$wrong\"}")" 401
  answer verify-jwt "$(call POST /admin/apiKeys:verify "{\"credential\":\"$jwt\",\"expected_audiences\":[\"edge\"]}")$(body .is_valid)" 200true
  answer verify-jwt-audience "$(call POST /admin/apiKeys:verify "{\"credential\":\"$jwt\"}")$(body .error_code)" 200VERIFICATION_ERROR_AUDIENCE_MISMATCH
  answer verify-macaroon "$(call POST /admin/apiKeys:verify "{\"credential\":\"$mac\"}")$(body .is_valid)" 200true
  answer verify-tampered-jwt "$(call POST /admin/apiKeys:verify "{\"credential\":\"${jwt%.*}.AAAA${jwt##*.}\"}")$(body .is_valid)" 200false
  answer batch-verify "$(call POST /admin/apiKeys:batchVerify "{\"requests\":[{\"credential\":\"$s1\"},{\"credential\":\"$jwt\",\"expected_audiences\":[\"edge\"]},{\"credential\":\"$mac\"},{\"credential\":\"$wrong\"},{\"credential\":\"$s2\"},{\"credential\":\"$i3\"}]}")$(body '[.results[].is_valid] | join(",")')" 200true,true,true,false,false,true
  answer self-revoke-derived "$(call POST /apiKeys:selfRevoke "{\"credential\":\"$jwt\",\"reason\":\"REVOCATION_REASON_KEY_COMPROMISE\"}")" 400
  answer self-revoke-wrong "$(call POST /apiKeys:selfRevoke "{\"credential\":\"$wrong\",\"reason\":\"REVOCATION_REASON_KEY_COMPROMISE\"}")" 404
  answer jwks "$(call GET /derivedKeys/jwks.json)$(body '[.jwks.keys[].kid] | join(",")')" 200leak-ed,leak-rsa
  answer jwks-public-only "$(body '[.jwks.keys[] | has("d") or has("p") or has("q") or has("dp") or has("dq") or has("qi")] | any')$(body '.jwks.keys[0].x' | grep -cxF "$ed_x")" false1
  answer jwks-admin "$(call GET /admin/derivedKeys/jwks.json)$(body '.jwks.keys | length')" 2002
  # Failures: bad JSON (holding a real secret or raw key), wrong types, unknown ids, unknown routes.
  answer bad-json-issue "$(call POST /admin/issuedApiKeys '{"name":')" 400
  answer bad-json-verify "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s1\",")" 400
  answer bad-json-verify-2 "$(call POST /admin/apiKeys:verify "{\"credential\":\"$r4\"}}")" 400
  answer bad-json-import "$(call POST /admin/importedApiKeys "{\"raw_key\":\"$i4\" \"name\":\"x\"}")" 400
  answer bad-json-batch "$(call POST /admin/apiKeys:batchVerify "{\"requests\":[{\"credential\":\"$s1\"},{\"credential\":\"$jwt\"")" 400
  answer bad-json-derive "$(call POST /admin/apiKeys:derive "{\"credential\":\"$s1\",\"ttl\":15}")" 400
  answer bad-json-self-revoke "$(call POST /apiKeys:selfRevoke "{\"credential\":\"$mac\",\"reason\":7")" 400
  answer bad-type-import "$(call POST /admin/importedApiKeys "{\"raw_key\":[\"$i5\"],\"name\":\"x\",\"actor_id\":\"y\"}")" 400
  answer unknown-key "$(call GET /admin/issuedApiKeys/00000000-0000-4000-8000-000000000000)" 404
  answer unknown-imported "$(call DELETE /admin/importedApiKeys/0000000000000000000000000000000000000000000000000000000000000000)" 404
  # (Not with a secret in the path: the request log records paths, and a credential in a URL is the caller's leak.)
  answer unknown-route "$(call POST /admin/nothing "{\"credential\":\"$s1\"}")" 404
  # Metrics after the walk.
  curl -s "http://127.0.0.1:$metrics_port/metrics" >"$rdir/metrics-walk.txt" || true
  answer metrics "$(grep -c '^talos_' "$rdir/metrics-walk.txt" | awk '{print ($1 > 0)}')" 1

  # Hot reload (SIGHUP): one valid change, then two invalid files (the old configuration stays in force).
  local reloaded rejected s5
  reloaded=$(grep -c 'configuration reloaded' "$rdir/stderr" || true)
  rejected=$(grep -c 'configuration reload rejected' "$rdir/stderr" || true)
  if [ "$source" = file ]; then
    # The current secret is rotated: the old one joins the retired list, a new one signs.
    write_config "$config" file "$HMAC_RELOADED" "$(jq -c --arg c "$HMAC_CURRENT" '[$c] + .' <<<"$retired_json")"
  else
    write_config "$config" env "" '[]' '{"credentials":{"api_keys":{"default_ttl":"48h"}},"quota":{"api_keys_max":100000}}'
  fi
  kill -HUP "$server"
  answer reload-applied "$(wait_log 'configuration reloaded' $((reloaded + 1)) && echo yes || echo no)" yes
  answer verify-after-reload "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s1\"}" -H 'Cache-Control: no-cache')$(body .is_valid)" 200true
  answer issue-after-reload "$(call POST /admin/issuedApiKeys '{"name":"after","actor_id":"leaker"}')" 201
  s5=$(body .secret); needle "issued.secret[$run:after-reload]" "$s5"
  answer verify-new-after-reload "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s5\"}")$(body .is_valid)" 200true
  answer derive-after-reload "$(call POST /admin/apiKeys:derive "{\"credential\":\"$s5\",\"algorithm\":\"TOKEN_ALGORITHM_MACAROON\"}")" 200
  needle "derived.macaroon[$run:after-reload]" "$(body .token.token)"
  # Invalid 1: the file cut off in the middle (after the secrets, so a parser that quotes its input would show them).
  local full; full=$(cat "$config")
  if [ "$source" = file ]; then
    jq -c '{secrets, db, cache, credentials}' <<<"$full" | head -c -3 >"$config"
  else
    head -c $((${#full} / 2)) <<<"$full" >"$config"
  fi
  kill -HUP "$server"
  answer reload-truncated-rejected "$(wait_log 'configuration reload rejected' $((rejected + 1)) && echo yes || echo no)" yes
  # Invalid 2: well-formed, but a value out of range next to every secret.
  if [ "$source" = file ]; then
    jq '.credentials.clock_skew = "1h" | .secrets.hmac.retired += [{"value": "short", "expires_at": "never"}]' <<<"$full" >"$config"
  else
    jq '.credentials.clock_skew = "1h"' <<<"$full" >"$config"
  fi
  kill -HUP "$server"
  answer reload-invalid-rejected "$(wait_log 'configuration reload rejected' $((rejected + 2)) && echo yes || echo no)" yes
  answer verify-after-rejected "$(call POST /admin/apiKeys:verify "{\"credential\":\"$s5\"}" -H 'Cache-Control: no-cache')$(body .is_valid)" 200true
  curl -s "http://127.0.0.1:$metrics_port/metrics" >"$rdir/metrics-reload.txt" || true
  u="http://127.0.0.1:$port"
}

one_run() { # BACKEND FORMAT SOURCE
  local backend=$1 source=$3
  format=$2 run="$1-$2-$3"
  rdir="$work/$run"; mkdir -p "$rdir"
  port=$(free_port) metrics_port=$(free_port) otlp_port=$(free_port)
  config="$rdir/config.json"
  expected="" got=""
  local serve_flags=() migrate_ok=yes
  if [ "$backend" = sqlite ]; then
    dsn="sqlite://$rdir/talos.db" rate_backend=memory
  else
    local db="${role}_$(python3 -c 'import secrets; print(secrets.token_hex(3))')"
    psql "$admin_dsn" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db OWNER $role" >/dev/null
    pg_cleanup=("DROP DATABASE IF EXISTS $db WITH (FORCE)" "${pg_cleanup[@]}")
    dsn=$(pg_dsn "$db") rate_backend=postgres
  fi
  secret_env=()
  if [ "$source" = env ]; then
    secret_env=(TALOS_SECRETS_HMAC_CURRENT="$HMAC_CURRENT" TALOS_SECRETS_HMAC_RETIRED_0_VALUE="$HMAC_RETIRED_A"
      TALOS_SECRETS_HMAC_RETIRED_0_EXPIRES_AT=2099-01-01T00:00:00Z TALOS_SECRETS_HMAC_RETIRED_1="$HMAC_RETIRED_B"
      TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS_0="$ED_URL"
      TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS_1="$RSA_URL"
      TALOS_DB_DSN="$dsn" TALOS_CACHE_REDIS_PASSWORD="$REDIS_PASSWORD")
  fi
  write_config "$config" "$source" "$HMAC_CURRENT" "$retired_json"
  # Migrations: `talos migrate up` (its output is a log path too) for file runs; `serve --migrate` otherwise.
  if [ "$source" = file ]; then
    env "${secret_env[@]}" "$binary" migrate up --config "$config" >"$rdir/migrate.stdout" 2>"$rdir/migrate.stderr" || migrate_ok=no
  else
    serve_flags=(--migrate)
  fi
  answer migrate "$migrate_ok" yes
  "$tools/python" "$scripts/otlp-receiver.py" "$otlp_port" "$rdir/spans.jsonl" "$rdir/spans-full.jsonl" &
  local receiver=$!
  pids+=($receiver)
  env "${secret_env[@]}" "$binary" serve --config "$config" "${serve_flags[@]}" >"$rdir/stdout" 2>"$rdir/stderr" &
  server=$!
  pids+=($server)
  local up=no
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/alive" >/dev/null 2>&1 && { up=yes; break; }; sleep 0.1; done
  answer started "$up" yes
  if [ "$up" = yes ]; then walk; fi
  kill -TERM "$server" 2>/dev/null || true
  local stopped=no
  for _ in $(seq 1 200); do kill -0 "$server" 2>/dev/null || { stopped=yes; break; }; sleep 0.1; done
  wait "$server" 2>/dev/null || true
  answer sigterm-stops "$stopped" yes
  for _ in $(seq 1 30); do [ -s "$rdir/spans.jsonl" ] && break; sleep 0.1; done
  sleep 0.3
  kill "$receiver" 2>/dev/null || true
  wait "$receiver" 2>/dev/null || true
  answer spans-exported "$([ -s "$rdir/spans.jsonl" ] && grep -q '"http.request"' "$rdir/spans.jsonl" && echo yes || echo no)" yes
  if [ "$format" = json ]; then
    answer debug-lines "$(grep -q '"level":"debug"' "$rdir/stderr" && echo yes || echo no)" yes
  else
    answer debug-lines "$(grep -q '^time=[^ ]* level=debug ' "$rdir/stderr" && echo yes || echo no)" yes
  fi
  check "$run: serves, walks every endpoint, reloads and stops as expected" test "$got" = "$expected"
}

started=$SECONDS
for format in json text; do
  for source in file env; do one_run sqlite "$format" "$source"; done
done
echo "SQLite runs: $((SECONDS - started)) s"

# Start-up refusals print their error: a config file holding every secret but cut off, or with a bad value.
mkdir -p "$work/cli"
port=$(free_port) metrics_port=$(free_port) otlp_port=$(free_port) format=json run=cli rate_backend=memory dsn="sqlite://$work/cli/t.db"
write_config "$work/cli/good.json" file "$HMAC_CURRENT" "$retired_json"
head -c -40 "$work/cli/good.json" >"$work/cli/truncated.json"
jq '.secrets.hmac.retired += ["short"]' "$work/cli/good.json" >"$work/cli/short-retired.json"
for bad in truncated short-retired; do
  code=0; timeout 20 "$binary" serve --config "$work/cli/$bad.json" >"$work/cli/serve-$bad.stdout" 2>"$work/cli/serve-$bad.stderr" || code=$?
  check "serve refuses the $bad config file (exit 1)" test "$code" = 1
done

if [ -n "$admin_dsn" ]; then
  started=$SECONDS
  for format in json text; do
    for source in file env; do one_run postgres "$format" "$source"; done
  done
  # A wrong password: the failure is printed, the password is not.
  wrong_dsn=$(pg_dsn postgres "$DSN_WRONG_PASSWORD")
  code=0; timeout 20 "$binary" migrate status --database "$wrong_dsn" >"$work/cli/migrate-wrong-pw.stdout" 2>"$work/cli/migrate-wrong-pw.stderr" || code=$?
  check "migrate status with a wrong DB password fails" test "$code" != 0
  code=0; TALOS_LOG_LEVEL=debug TALOS_DB_DSN="$wrong_dsn" TALOS_SECRETS_HMAC_CURRENT="$HMAC_CURRENT" TALOS_CREDENTIALS_ISSUER=https://leak.example.com \
    TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$(free_port) TALOS_SERVE_METRICS_PORT=$(free_port) \
    timeout 20 "$binary" serve >"$work/cli/serve-wrong-pw.stdout" 2>"$work/cli/serve-wrong-pw.stderr" || code=$?
  check "serve with a wrong DB password fails at start-up" test "$code" = 1
  echo "PostgreSQL runs: $((SECONDS - started)) s"
fi

# The search. Captured: every file a run or a command printed to, and what the receiver and /metrics gave us; never
# the HTTP answers (they hold secrets by design) nor the configuration files and needles themselves.
mapfile -t captured < <(cd "$work" && find . -mindepth 2 -type f \( -name 'std*' -o -name '*.stdout' -o -name '*.stderr' \
  -o -name 'spans*.jsonl' -o -name 'metrics-*.txt' -o -name 'feed.txt' \) | sed 's|^\./||' | sort)
# A decoded view of each: JSON string escapes undone, percent-decoded, and every base64/base64url token and printed
# byte array decoded (as text and as hex), so that an encoded copy of a secret is found too.
python3 - "$work" "${captured[@]}" <<'PY'
import base64, json, re, sys, urllib.parse
work, files = sys.argv[1], sys.argv[2:]
token = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
array = re.compile(r"\[\s*(\d{1,3}(?:\s*,\s*\d{1,3}){15,})\s*\]")
escape = re.compile(r'\\(u[0-9a-fA-F]{4}|.)')
def unescape(text):
    simple = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
    return escape.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u" and len(m.group(1)) == 5 else simple.get(m.group(1), m.group(1)), text)
def decoded_tokens(text):
    out = []
    for match in token.findall(text):
        # A token glued to what precedes it ("base64://eyJ…" gives "//eyJ…") is tried at every alignment.
        stripped = match.rstrip("=")
        for candidate in {stripped[i:] for i in range(4)}:
            data = candidate.replace("-", "+").replace("_", "/")
            try:
                raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
            except Exception:
                continue
            out.append(raw.decode("latin-1")); out.append(raw.hex())
    return out
for name in files:
    text = open(f"{work}/{name}", "rb").read().decode("utf-8", "replace")
    views = [unescape(text), urllib.parse.unquote(text), urllib.parse.unquote(unescape(text))]
    for view in list(views):
        views.extend(decoded_tokens(view))
    for view in list(views[:3]):
        for match in array.findall(view):
            raw = bytes(int(n) & 0xFF for n in re.findall(r"\d+", match))
            views.append(raw.decode("latin-1")); views.append(raw.hex())
    with open(f"{work}/{name}.decoded", "w", encoding="utf-8", errors="replace") as sink:
        sink.write("\n".join(views))
PY
# The search must be able to fail: a planted needle is found, raw and base64-encoded.
printf 'planted %s\n' "$HMAC_CURRENT" >"$work/canary.txt"
check "the search finds a planted secret" grep -qaF -e "$HMAC_CURRENT" "$work/canary.txt"
check "the decoded view finds a base64-encoded secret" bash -c "printf '%s' '$HMAC_CURRENT' | base64 -w0 | python3 -c '
import base64, sys; t = sys.stdin.read(); print(base64.b64decode(t).decode())' | grep -qaF -e '$HMAC_CURRENT'"
echo "searching $(wc -l <"$needles") needles in ${#captured[@]} captured files (and their decoded views)"
declare -A leaks=()
views=()
for name in "${captured[@]}"; do views+=("$name" "$name.decoded"); done
while IFS=$'\t' read -r kind value; do
  [ -n "$value" ] || continue
  # One grep per needle over every file and view ("path:count" each); a file is listed as it is, or, when only its
  # decoded view holds the needle, as "(encoded)".
  declare -A raw_hits=() decoded_hits=()
  while IFS= read -r hit; do
    n=${hit##*:} name=${hit%:*}
    [ "$n" -gt 0 ] || continue
    if [[ $name == *.decoded ]]; then decoded_hits[${name%.decoded}]=$n; else raw_hits[$name]=$n; fi
  done < <(cd "$work" && grep -caF -e "$value" "${views[@]}" || true)
  for name in "${!raw_hits[@]}"; do
    leaks[$name]+="      $kind (${value:0:6}…) in ${name##*/}: ${raw_hits[$name]} line(s)"$'\n'
  done
  for name in "${!decoded_hits[@]}"; do
    [ -z "${raw_hits[$name]:-}" ] || continue
    leaks[$name]+="      $kind (${value:0:6}…) in ${name##*/}, encoded (found in its decoded view)"$'\n'
  done
  unset raw_hits decoded_hits
done <"$needles"
for run in $(printf '%s\n' "${captured[@]}" | sed 's|/.*||' | sort -u); do
  for name in $(printf '%s\n' "${captured[@]}" | grep "^$run/"); do
    file=${name##*/}
    if [ -n "${leaks[$name]:-}" ]; then
      check "$run: no secret in $file" false
      printf '%s' "${leaks[$name]}" | head -60
    else
      check "$run: no secret in $file" true
    fi
  done
done
echo "e2e-secrets: $passed passed, $failed failed"
test "$failed" = 0
