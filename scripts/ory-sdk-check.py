#!/usr/bin/env python3
"""Every key operation of Ory's own Python SDK (ory-client, ApiKeysApi) against a running Talos.

    ory-sdk-check.py BASE_URL [ADMIN_KEY]

With ADMIN_KEY the SDK is configured the way Ory documents it, `Configuration(host=…, access_token=…)`, and one call
without the token must be refused with 401 (spec §16.3). Prints `ok   - …` / `FAIL - …` and a summary; exits 1 on a
failure.
"""
import sys

import ory_client
from ory_client.api.api_keys_api import ApiKeysApi
from ory_client.exceptions import ApiException
from ory_client.models import (
    AdminRevokeImportedApiKeyBody, AdminRevokeIssuedApiKeyBody, AdminRotateIssuedApiKeyBody,
    AdminUpdateImportedApiKeyRequest, AdminUpdateIssuedApiKeyRequest, BatchCreateImportedApiKeysRequest,
    BatchVerifyApiKeysRequest, DeriveTokenRequest, ImportApiKeyRequest, IssueApiKeyRequest, SelfRevokeApiKeyRequest,
    VerifyApiKeyRequest,
)

base, admin_key = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
results = []


def check(name, function):
    try:
        ok = function()
    except Exception as error:  # an SDK exception is a failure of this check, reported with its message
        ok, name = False, f"{name}: {type(error).__name__}: {str(error)[:300]}"
    results.append(bool(ok))
    print(("ok   - " if ok else "FAIL - ") + name)


def client(token):
    configuration = ory_client.Configuration(host=base, access_token=token)
    return ApiKeysApi(ory_client.ApiClient(configuration))


api = client(admin_key)
tag = "with access_token" if admin_key else "without authentication"
state = {}


def issue():
    response = api.admin_issue_api_key(IssueApiKeyRequest(name="sdk", actor_id="sdk-user", scopes=["read", "write"], ttl="24h"))
    state["id"], state["secret"] = response.issued_api_key.key_id, response.secret
    return response.secret.startswith("ory_ak_v1_")


def imported():
    response = api.admin_import_api_key(ImportApiKeyRequest(raw_key="sdk-imported-key-0123456789", name="imp", actor_id="sdk-user"))
    state["imported"] = response.key_id
    return len(response.key_id) == 64


check(f"{tag}: admin_issue_api_key", issue)
check(f"{tag}: admin_get_issued_api_key", lambda: api.admin_get_issued_api_key(state["id"]).actor_id == "sdk-user")
check(f"{tag}: admin_list_issued_api_keys", lambda: any(k.key_id == state["id"] for k in api.admin_list_issued_api_keys(page_size=10).issued_api_keys))
check(f"{tag}: admin_update_issued_api_key", lambda: api.admin_update_issued_api_key(
    state["id"], AdminUpdateIssuedApiKeyRequest(name="renamed"), update_mask="name").name == "renamed")
check(f"{tag}: admin_verify_api_key", lambda: api.admin_verify_api_key(VerifyApiKeyRequest(credential=state["secret"])).is_valid)
check(f"{tag}: admin_batch_verify_api_keys", lambda: [r.is_valid for r in api.admin_batch_verify_api_keys(BatchVerifyApiKeysRequest(
    requests=[VerifyApiKeyRequest(credential=state["secret"]), VerifyApiKeyRequest(credential="nope")])).results] == [True, False])
check(f"{tag}: admin_derive_token", lambda: api.admin_derive_token(DeriveTokenRequest(credential=state["secret"], ttl="5m")).token.token.count(".") == 2)
check(f"{tag}: get_jwks", lambda: api.get_jwks() is not None)


def rotate():
    response = api.admin_rotate_issued_api_key(state["id"], AdminRotateIssuedApiKeyBody(name="rotated"))
    state["rotated"], state["rotated_secret"] = response.issued_api_key.key_id, response.secret
    return response.secret != state["secret"]


check(f"{tag}: admin_rotate_issued_api_key", rotate)
check(f"{tag}: admin_revoke_issued_api_key", lambda: api.admin_revoke_issued_api_key(
    state["rotated"], AdminRevokeIssuedApiKeyBody(reason="REVOCATION_REASON_KEY_COMPROMISE")) is None)
check(f"{tag}: admin_import_api_key", imported)
check(f"{tag}: admin_get_imported_api_key", lambda: api.admin_get_imported_api_key(state["imported"]).name == "imp")
check(f"{tag}: admin_list_imported_api_keys", lambda: len(api.admin_list_imported_api_keys().imported_api_keys) >= 1)
check(f"{tag}: admin_update_imported_api_key", lambda: api.admin_update_imported_api_key(
    state["imported"], AdminUpdateImportedApiKeyRequest(scopes=["read"]), update_mask="scopes").scopes == ["read"])
check(f"{tag}: admin_batch_create_imported_api_keys", lambda: api.admin_batch_create_imported_api_keys(BatchCreateImportedApiKeysRequest(
    requests=[ImportApiKeyRequest(raw_key="sdk-batch-key-0123456789", name="b", actor_id="sdk-user")])).success_count == 1)
check(f"{tag}: admin_revoke_imported_api_key", lambda: api.admin_revoke_imported_api_key(
    state["imported"], AdminRevokeImportedApiKeyBody(reason="REVOCATION_REASON_KEY_COMPROMISE")) is None)
check(f"{tag}: admin_delete_imported_api_key", lambda: api.admin_delete_imported_api_key(state["imported"]) is None)
check(f"{tag}: revoke_api_key (self-revoke, public)", lambda: client(None).revoke_api_key(SelfRevokeApiKeyRequest(
    credential=state["rotated_secret"], reason="REVOCATION_REASON_KEY_COMPROMISE")) is not None)

if admin_key:
    def refused():
        try:
            client(None).admin_list_issued_api_keys()
        except ApiException as error:
            return error.status == 401 and "ADMIN_KEY_REQUIRED" in (error.body or "")
        return False
    check("without the access token the same SDK call is refused with 401 ADMIN_KEY_REQUIRED", refused)

failed = results.count(False)
print(f"ory-sdk ({tag}): {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
