#!/usr/bin/env bash
# The product's published quickstart, unchanged. Expects a server at $TALOS_URL and `talos` on PATH.
set -euo pipefail
export TALOS_URL=${TALOS_URL:-http://localhost:4420}
curl -sf "$TALOS_URL/health/alive" | head -c 200
RESPONSE=$(talos keys issue "My first key" --actor quickstart-user --scopes "read:*,write:*" --ttl 168h --format json -e "$TALOS_URL" 2>/dev/null)
export API_SECRET=$(echo "$RESPONSE" | jq -er '.secret')
export KEY_ID=$(echo "$RESPONSE" | jq -er '.issued_api_key.key_id')
RESPONSE=$(curl -s -X POST "$TALOS_URL/v2alpha1/admin/issuedApiKeys" -H "Content-Type: application/json" \
  -d '{"name": "My first key", "actor_id": "quickstart-user", "scopes": ["read:*", "write:*"], "ttl": "168h"}')
talos keys verify "$API_SECRET" -e "$TALOS_URL"                       # exit 0, shows the key's metadata
curl -s -X POST "$TALOS_URL/v2alpha1/admin/apiKeys:verify" -H "Content-Type: application/json" \
  -d "{\"credential\":\"$API_SECRET\"}" | jq .                          # is_valid: true, actor, scopes, expiry
talos keys revoke "$KEY_ID" --reason superseded -e "$TALOS_URL"
curl -s -X POST "$TALOS_URL/v2alpha1/admin/apiKeys/${KEY_ID}:revoke" -H "Content-Type: application/json" \
  -d '{"reason":"REVOCATION_REASON_SUPERSEDED"}'                       # second revoke of the same key: 409
if talos keys verify "$API_SECRET" --no-cache -e "$TALOS_URL"; then   # must now exit non-zero
  echo "quickstart: a revoked key still verified" >&2
  exit 1
fi
curl -s -X POST "$TALOS_URL/v2alpha1/admin/apiKeys:verify" -H "Content-Type: application/json" \
  -H "Cache-Control: no-cache" -d "{\"credential\":\"$API_SECRET\"}" | jq -e '.is_valid == false'
echo "quickstart: OK"
