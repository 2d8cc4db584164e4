#!/usr/bin/env bash
# Derived tokens checked by the libraries consumers use (spec §15.13): PyJWT's PyJWKClient reads the served JWK Set
# and verifies an EdDSA and an RS256 JWT; pymacaroons verifies a derived macaroon under the §4.6 root key.
#   scripts/e2e-jwks.sh BINARY TOOLS_BIN   (TOOLS_BIN from scripts/python-tools.sh)
set -euo pipefail
binary=$(realpath "$1")
tools=$2
work=$(mktemp -d)
server=""
trap '[ -z "$server" ] || kill $server 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
port=$(free_port)
hmac="jwks-secret-that-is-long-enough-0123456789ab"
ed=$("$binary" jwk generate eddsa --kid ed --base64); rsa=$("$binary" jwk generate rsa --kid rsa --bits 2048 --base64)
start() { # signing key id
  TALOS_SECRETS_HMAC_CURRENT=$hmac TALOS_CREDENTIALS_ISSUER=https://jwks.example.com TALOS_DB_DSN="sqlite://$work/j.db" \
    TALOS_SERVE_HTTP_HOST=127.0.0.1 TALOS_SERVE_HTTP_PORT=$port TALOS_SERVE_METRICS_PORT=$(free_port) \
    TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEYS_URLS="$ed,$rsa" \
    TALOS_CREDENTIALS_DERIVED_TOKENS_JWT_SIGNING_KEY_ID="$1" "$binary" serve >>"$work/server.log" 2>&1 &
  server=$!
  wait_alive "http://127.0.0.1:$port"
}
start ed
url="http://127.0.0.1:$port"
secret=$(curl -s -X POST "$url/v2alpha1/admin/issuedApiKeys" -d '{"name":"j","actor_id":"jwks-user","scopes":["read"]}' | jq -r .secret)
derive() { curl -s -X POST "$url/v2alpha1/admin/apiKeys:derive" -d "{\"credential\":\"$secret\",\"audiences\":[\"orders\"]$1}" | jq -r .token.token; }
eddsa=$(derive ''); macaroon=$(derive ',"algorithm":"TOKEN_ALGORITHM_MACAROON"')
kill -TERM $server; wait $server 2>/dev/null || true
start rsa
rs256=$(derive '')
status=0
"$tools/python" - "$url/v2alpha1/derivedKeys/jwks.json" "$eddsa" "$rs256" "$macaroon" "$hmac" >"$work/checks.txt" <<'PY' || status=$?
import base64, hashlib, hmac, json, sys
import jwt
from pymacaroons import Macaroon, Verifier
jwks_url, eddsa, rs256, macaroon, secret = sys.argv[1:]
client = jwt.PyJWKClient(jwks_url)
results = []
for token, alg in ((eddsa, "EdDSA"), (rs256, "RS256")):
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=[alg], audience="orders", issuer="https://jwks.example.com")
    results.append(claims["sub"] != "" and claims["scp"] == ["read"] and claims["oid"] == "jwks-user")
    print(("ok   - " if results[-1] else "FAIL - ") + f"PyJWKClient verifies the {alg} token (kid {key.key_id})")
root = hmac.new(secret.encode(), b"talos/macaroon/v1/root-key", hashlib.sha256).digest()
raw = macaroon.split("_v1_", 1)[1]
m = Macaroon.deserialize(raw + "=" * (-len(raw) % 4))
verifier = Verifier()
verifier.satisfy_general(lambda caveat: True)
results.append(verifier.verify(m, root))
print(("ok   - " if results[-1] else "FAIL - ") + "pymacaroons verifies the macaroon under the spec §4.6 root key")
# A holder re-chains a caveat with a new name (pymacaroons signs it correctly); Talos refuses it (spec §15.1).
tampered = Macaroon.deserialize(raw + "=" * (-len(raw) % 4))
# The same V2 encoding Talos issues, so only the appended caveat can be the reason for a refusal.
assert tampered.version == 2 and tampered.serialize().rstrip("=").replace("+", "-").replace("/", "_") == raw
tampered.add_first_party_caveat('role="admin"')
forged = "mc_v1_" + tampered.serialize().rstrip("=").replace("+", "-").replace("/", "_")
import urllib.request
request = urllib.request.Request(jwks_url.replace("/v2alpha1/derivedKeys/jwks.json", "/v2alpha1/admin/apiKeys:verify"),
    data=json.dumps({"credential": forged, "expected_audiences": ["orders"]}).encode(), method="POST")
answer = json.load(urllib.request.urlopen(request))
results.append(answer.get("error_code") == "VERIFICATION_ERROR_SIGNATURE_INVALID")
print(("ok   - " if results[-1] else "FAIL - ") + "Talos refuses the macaroon with an appended role caveat")
sys.exit(0 if all(results) else 1)
PY
cat "$work/checks.txt"
passed=$(grep -c '^ok ' "$work/checks.txt" || true)
echo "e2e-jwks: $passed passed, $((4 - passed)) failed"
test "$status" = 0 -a "$passed" = 4
