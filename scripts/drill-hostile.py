#!/usr/bin/env python3
"""Hostile-input drill (hardening): seeded malformed requests against every route of a running Talos server.

    scripts/drill-hostile.py BASE_URL [--seed N] [--count N] [--workers N] [--verbose]

Covers every method+path of the server's own `GET /openapi.json` (read at start), wrong methods, unknown
paths, non-canonical paths (`%61dmin`, `//`, `/./`, `..`, trailing `/`), bad JSON of many kinds (truncated, deep
nesting, huge numbers, invalid UTF-8, wrong types per field, nulls, duplicate keys, long strings, NUL bytes, many
values), wrong content types, bodies around the 1 MiB / 16 MiB limits, bad query parameters, bad key ids, garbage
credentials, and raw-socket requests with broken HTTP (bad header bytes, bad chunking, header block > 16 KiB).

Asserted for every request (spec §2.5, §2.6, §15.3, §15.4):
  * an answer arrives (within the timeout) unless the case says a response cannot be written;
  * no status >= 500 other than 503 (and 501 where a case expects it: an unsupported transfer coding, §16.16);
  * every error response (status >= 400) is the JSON error envelope of §2.5 (code = HTTP status, gRPC status name,
    message, details[0] ErrorInfo with a reason of the §2.5 table and domain www.ory.com/talos, details[1]
    RequestInfo with the request id), with a JSON content type; a non-envelope error body (including an empty one,
    e.g. from the HTTP parser) is counted and listed as a failure;
  * strict paths: any percent-escape other than %3A/%3a, an empty, `.` or `..` segment → 404; a known path with a
    method it does not serve → 405; a header block > 16 KiB → 431; a body over the route's limit → 413;
  * garbage credentials never verify (no is_valid:true, no derived token, no self-revoke);
  * /health/alive still answers 200 at the end (and after each risky case, which run one at a time first).
The server should run in `serve` mode with a JWT signing key configured (scripts/drills.sh does this); otherwise
derive answers 500 SIGNING_KEY_UNAVAILABLE, which counts as a failure.
Prints per-status counts, the failures grouped with examples, and `hostile: N passed, M failed`. Exit 1 on any
failure.
"""
import argparse
import base64
import collections
import hashlib
import http.client
import json
import random
import re
import select
import socket
import string
import sys
import threading
import time
import urllib.parse
import uuid

ADMIN = "/v2alpha1/admin"
MiB = 1024 * 1024
ONE, SIXTEEN = MiB, 16 * MiB
TIMEOUT = 10.0

# The route table, read from the server's own `GET /openapi.json` at start (load_routes): (method, template, body kind,
# body limit). What the drill sends to each operation, by operationId; an operation the document has and this table
# lacks stops the drill, so that no route goes untested.
BODY_KINDS = {
    "isAlive": (None, ONE), "isReady": (None, ONE), "getVersion": (None, ONE),
    "issueApiKey": ("issue", ONE), "listIssuedApiKeys": ("list", ONE), "getIssuedApiKey": (None, ONE),
    "updateIssuedApiKey": ("update_issued", ONE), "rotateIssuedApiKey": ("rotate", ONE),
    "revokeIssuedApiKey": ("revoke", ONE), "importApiKey": ("import", ONE),
    "batchCreateImportedApiKeys": ("batch_import", SIXTEEN), "batchImportImportedApiKeys": ("batch_import", SIXTEEN),
    "listImportedApiKeys": ("list", ONE), "getImportedApiKey": (None, ONE),
    "updateImportedApiKey": ("update_imported", ONE), "deleteImportedApiKey": (None, ONE),
    "revokeImportedApiKey": ("revoke", ONE), "revokeApiKey": ("revoke", ONE), "verifyApiKey": ("verify", ONE),
    "batchVerifyApiKeys": ("batch_verify", SIXTEEN), "selfRevokeApiKey": ("self_revoke", ONE),
    "deriveToken": ("derive", ONE), "getAdminDerivedKeysJwks": (None, ONE), "getDerivedKeysJwks": (None, ONE),
    "createAdminKey": ("admin_key", ONE), "listAdminKeys": ("list", ONE), "getAdminKey": (None, ONE),
    "revokeAdminKey": (None, ONE), "getApiKeyUsage": (None, ONE), "getActorUsage": (None, ONE),
    **{f"authorizeApiKey{method}": (None, ONE) for method in ("Get", "Head", "Post", "Put", "Patch", "Delete", "Options")},
}
# Probed with wrong methods and bad variants only: the document itself, and the event stream (a GET never ends).
EXTRA_OPERATIONS = {"getOpenApiDocument", "watchRevocations"}
ROUTES = []


def load_routes(port):
    """The route table from the server's OpenAPI document; `{key_id}` becomes the id kind the path holds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("GET", "/openapi.json")
    document = json.loads(conn.getresponse().read())
    conn.close()
    routes, unknown = [], []
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            name = operation["operationId"]
            if name in EXTRA_OPERATIONS:
                continue
            if name not in BODY_KINDS:
                unknown.append(f"{method.upper()} {template} ({name})")
                continue
            kind = ("issued" if "/issuedApiKeys/" in template or "/adminKeys/" in template
                    else "imported" if "/importedApiKeys/" in template else "any")
            routes.append((method.upper(), template.replace("{key_id}", "{" + kind + "}")) + BODY_KINDS[name])
    if unknown:
        sys.exit("hostile: /openapi.json has operations this drill does not know how to feed: " + ", ".join(unknown))
    return routes


# The paths of EXTRA_OPERATIONS, probed with wrong methods and bad variants only.
EXTRA_PATHS = ["/openapi.json", f"{ADMIN}/revocations:watch"]
STANDARD_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
ODD_METHODS = ["HEAD", "PROPFIND", "MKCOL", "FOO", "get", "Post", "G\x01T", "PURGE", "SEARCH", "LINK", "QUERY", "M" * 300]

# §2.5 reason table (+ §14.20, §15.5): reason → (HTTP code, gRPC status).
REASONS = {r: (400, "INVALID_ARGUMENT") for r in [
    "INVALID_ARGUMENT", "MALFORMED_REQUEST", "CREDENTIAL_REQUIRED", "DERIVED_TOKEN_NOT_REVOCABLE",
    "TTL_EXCEEDS_MAXIMUM", "PUBLIC_PREFIX_NOT_CONFIGURED", "INVALID_UPDATE_MASK", "INVALID_FILTER",
    "INVALID_PAGE_TOKEN", "ADMIN_ONLY_REASON", "DERIVED_TOKEN_NOT_DERIVABLE"]}
REASONS.update({
    "PARENT_KEY_INVALID": (401, "UNAUTHENTICATED"), "API_KEY_EXPIRED": (401, "UNAUTHENTICATED"),
    "PARENT_KEY_REVOKED": (403, "PERMISSION_DENIED"), "SCOPE_NOT_ALLOWED": (403, "PERMISSION_DENIED"),
    "PUBLIC_KEY_NOT_SELF_REVOCABLE": (403, "PERMISSION_DENIED"), "CROSS_ORIGIN_REQUEST": (403, "PERMISSION_DENIED"),
    "HOST_NOT_ALLOWED": (421, "INVALID_ARGUMENT"),
    "ADMIN_KEY_REQUIRED": (401, "UNAUTHENTICATED"), "ADMIN_KEY_INVALID": (401, "UNAUTHENTICATED"),
    "ADMIN_PERMISSION_REQUIRED": (403, "PERMISSION_DENIED"),
    "CREDENTIAL_MISSING": (401, "UNAUTHENTICATED"), "CREDENTIAL_INVALID": (401, "UNAUTHENTICATED"),
    "SCOPE_REQUIRED": (403, "PERMISSION_DENIED"),
    "API_KEY_NOT_FOUND": (404, "NOT_FOUND"), "NETWORK_NOT_FOUND": (404, "NOT_FOUND"), "NOT_FOUND": (404, "NOT_FOUND"),
    "API_KEY_ALREADY_EXISTS": (409, "ALREADY_EXISTS"), "API_KEY_ALREADY_REVOKED": (409, "FAILED_PRECONDITION"),
    "API_KEY_NOT_ACTIVE": (409, "FAILED_PRECONDITION"), "IMPORT_FORMAT_CONFLICT": (409, "FAILED_PRECONDITION"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"), "RATE_LIMITED": (429, "RESOURCE_EXHAUSTED"),
    "REQUEST_TOO_LARGE": (413, "RESOURCE_EXHAUSTED"), "METHOD_NOT_ALLOWED": (405, "UNIMPLEMENTED"),
    "UNIMPLEMENTED": (501, "UNIMPLEMENTED"), "SIGNING_KEY_UNAVAILABLE": (500, "INTERNAL"), "INTERNAL": (500, "INTERNAL"),
    "SERVICE_UNAVAILABLE": (503, "UNAVAILABLE"), "DEADLINE_EXCEEDED": (504, "DEADLINE_EXCEEDED"),
})
# §15.3 statuses whose reason the spec does not name: only the gRPC status is checked.
FREE_REASON_STATUS = {408: "DEADLINE_EXCEEDED", 431: "INVALID_ARGUMENT"}
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class Case:
    __slots__ = ("index", "kind", "method", "target", "raw", "expect", "need_response", "garbage", "risky",
                 "summary", "request_id", "half_close", "min_responses")

    def __init__(self, kind, method, target, raw, expect=None, need_response=True, garbage=None, risky=False,
                 summary="", request_id=None, half_close=False, min_responses=1):
        self.index = -1
        self.min_responses = min_responses
        self.kind, self.method, self.target, self.raw = kind, method, target, raw
        self.expect, self.need_response, self.garbage, self.risky = expect, need_response, garbage, risky
        self.summary, self.request_id, self.half_close = summary, request_id, half_close

    def bytes(self):
        return self.raw() if callable(self.raw) else self.raw


def show(text, limit):
    """Printable form of a method, target or header: control and non-ASCII characters escaped, long text cut."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    escaped = "".join(c if 32 <= ord(c) < 127 else repr(c)[1:-1] if ord(c) < 256 else c for c in text)
    return escaped if len(escaped) <= limit else escaped[:limit - 10] + f"…({len(text)} chars)"


def to_bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


def http_request(method, target, headers=(), body=b"", version="HTTP/1.1", host=None, length=True, close=True):
    """Serializes one request; headers is a list of (name, value) (str or bytes)."""
    lines = [to_bytes(method) + b" " + to_bytes(target) + b" " + to_bytes(version)]
    if host is not None:
        lines.append(b"Host: " + to_bytes(host))
    for name, value in headers:
        lines.append(to_bytes(name) + b": " + to_bytes(value))
    if length is True:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def served_methods(target):
    """Methods of every route whose template matches `target` (as APIResponder matches: `%3A` = `:`; a capture
    with a suffix needs a non-empty value), or an empty set for an unknown path."""
    path = target.split("?", 1)[0].replace("%3A", ":").replace("%3a", ":")
    parts = [p for p in path.split("/") if p]
    methods = set()
    for method, template, _, _ in ROUTES:
        segments = [s for s in template.split("/") if s]
        if len(segments) != len(parts):
            continue
        for segment, part in zip(segments, parts):
            if segment.startswith("{"):
                suffix = segment[segment.index("}") + 1:]
                if not (part.endswith(suffix) and len(part) > len(suffix)):
                    break
            elif segment != part:
                break
        else:
            methods.add(method)
    return methods


def parser_may_refuse(method, target, headers):
    """A request the HTTP layer may refuse before routing: a raw byte the URI grammar forbids, a control or 8-bit
    byte in a header, an unusual method."""
    if any(not 33 <= ord(c) < 127 for c in target) or method not in STANDARD_METHODS + ["HEAD"]:
        return True
    for name, value in headers:
        if any(ord(c) < 32 and c != "\t" or ord(c) >= 127 for c in to_bytes(name).decode("latin-1") + to_bytes(value).decode("latin-1")):
            return True
    return False


def strict_path_expectation(target):
    """§15.4: a percent-escape other than %3A, an empty, `.` or `..` segment → 404 (None when no rule applies)."""
    path = target.split("?", 1)[0] if isinstance(target, str) else target.split(b"?", 1)[0].decode("latin-1")
    if not path.startswith("/"):
        return None
    for match in re.finditer(r"%(..)?", path):
        if (match.group(1) or "").lower() != "3a":
            return "path:percent-escape"  # also a malformed escape (`%zz`, a trailing `%`)
    segments = path.split("/")[1:]
    if path == "/":
        return None
    if any(segment == "" for segment in segments):
        return "path:empty-segment"
    if any(segment in (".", "..") for segment in segments):
        return "path:dot-segment"
    return None


class Generator:
    """Builds the seeded case list. `world` holds real ids and secrets made by the setup."""

    def __init__(self, rng, host, world):
        self.rng, self.host, self.world = rng, host, world
        self.imported_garbage = set()  # garbage imported as raw keys: these verify, rightly

    # ---- values -------------------------------------------------------------------------------------------
    def rand_text(self, low=1, high=40, alphabet=string.ascii_letters + string.digits + "_-"):
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(low, high)))

    def key_id(self, slot):
        rng, w = self.rng, self.world
        choices = [
            lambda: w["issued_id"], lambda: w["revoked_id"], lambda: w["imported_id"], lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            lambda: w["issued_id"].upper(), lambda: w["imported_id"].upper(), lambda: "00000000-0000-0000-0000-000000000000",
            lambda: w["issued_id"].replace("-", ""), lambda: "{" + w["issued_id"] + "}", lambda: w["imported_id"][:-1],
            lambda: w["imported_id"] + "0", lambda: "g" * 64, lambda: "x", lambda: "-1", lambda: "0", lambda: "null",
            lambda: "a" * rng.choice([300, 2000, 8000]), lambda: "'OR'1'='1", lambda: "*", lambda: ";", lambda: ",",
            lambda: "a:b:c", lambda: "%00", lambda: "%2e%2e", lambda: "..", lambda: ".", lambda: "%3Arotate",
            lambda: "ключ", lambda: "\u00e9\u0301", lambda: "%ff%fe", lambda: "%zz", lambda: "%", lambda: "~!$&()+=@",
            lambda: w["secret"], lambda: w["issued_id"] + "%3A", lambda: "00000000-0000-4000-8000-00000000000g",
        ]
        if slot == "issued":
            weights = [8, 3, 2, 4] + [1] * (len(choices) - 4)
        elif slot == "imported":
            weights = [1, 1, 8, 2] + [1] * (len(choices) - 4)
        else:
            weights = [4, 2, 4, 3] + [1] * (len(choices) - 4)
        return rng.choices(choices, weights)[0]()

    def fill(self, template, ids=None):
        path = template
        for slot in ("issued", "imported", "any"):
            token = "{" + slot + "}"
            if token in path:
                path = path.replace(token, ids if ids is not None else self.key_id(slot))
        return path

    def garbage_credential(self):
        rng, w = self.rng, self.world
        secret = w["secret"]
        flip = rng.randrange(len(secret))
        replacement = rng.choice([c for c in "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz" if c != secret[flip]])
        b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        choices = [
            lambda: secret[:flip] + replacement + secret[flip + 1:],
            lambda: secret + "x", lambda: secret[:-1], lambda: secret.upper(), lambda: " " + secret, lambda: secret + "\n",
            lambda: secret.replace("_v1_", "_v2_"), lambda: "ory_ak_v1_" + self.rand_text(60, 70, "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz") + "_" + self.rand_text(43, 44, "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"),
            lambda: "ory_ak_v1__", lambda: "_v1_", lambda: "ory_ak_v1_0OIl_0OIl", lambda: "x" * rng.choice([8192, 8193, 20000]),
            lambda: "eyJ" + b64(b'{"alg":"none","typ":"JWT"}')[3:] + "." + b64(b'{"sub":"x","exp":99999999999}') + ".",
            lambda: "eyJ" + b64(b'{"alg":"none","typ":"JWT"}')[3:] + "." + b64(b'{"sub":"x"}') + "." + b64(b"sig"),
            lambda: "eyJ" + b64(b'{"alg":"HS256","kid":"ed"}')[3:] + "." + b64(b'{"akid":"' + w["issued_id"].encode() + b'"}') + "." + b64(rng.randbytes(32)),
            lambda: "eyJ" + b64(b'{"alg":"EdDSA","kid":"../../etc/passwd"}')[3:] + "." + b64(b"{}") + "." + b64(rng.randbytes(64)),
            lambda: "eyJ" + b64(rng.randbytes(rng.randint(1, 200))) + "." + b64(rng.randbytes(rng.randint(1, 200))) + "." + b64(rng.randbytes(rng.randint(1, 80))),
            lambda: "eyJ..", lambda: "eyJa.b.c", lambda: (w.get("jwt") or "eyJa.b.c")[:-3] + "AAA",
            lambda: "mc_v1_" + b64(rng.randbytes(rng.randint(0, 400))), lambda: "mc_v1_", lambda: "mc_v1_AgEA",
            lambda: (w.get("macaroon") or "mc_v1_AA") + b64(b"\x02" + rng.randbytes(8)),
            lambda: (w.get("macaroon") or "mc_v1_AA")[:-5], lambda: "mc_v1_" + "A" * 10000,
            lambda: b64(rng.randbytes(rng.randint(1, 300))), lambda: self.rand_text(1, 200, string.printable),
            lambda: "\u0000", lambda: "\u202e\u0000\uffff", lambda: "🔑" * rng.randint(1, 3000), lambda: " ", lambda: "\t\n",
            lambda: "sk_live_" + self.rand_text(10, 40), lambda: "%00", lambda: "null", lambda: "../" * 50,
        ]
        return rng.choice(choices)()

    def base_body(self, kind):
        rng, w = self.rng, self.world
        if kind == "issue":
            return {"name": "hostile", "actor_id": "hostile", "scopes": ["read"], "ttl": "1h", "metadata": {"a": "b"},
                    "rate_limit_policy": {"quota": "10", "window": "60s"}, "ip_restriction": {"allowed_cidrs": ["10.0.0.0/8"]},
                    "request_id": "r-" + self.rand_text(4, 8), "visibility": "KEY_VISIBILITY_SECRET"}
        if kind == "import":
            body = self.base_body("issue")
            body["raw_key"] = "hostile_" + self.rand_text(8, 16)
            return body
        if kind in ("update_issued", "update_imported"):
            inner = {"name": "renamed", "scopes": ["read"], "metadata": {"x": "y"}, "rate_limit_policy": {"quota": 5, "window": "1m"},
                     "ip_restriction": {"allowed_cidrs": []}}
            if rng.random() < 0.5:
                return {"issued_api_key" if kind == "update_issued" else "imported_api_key": inner}
            return inner
        if kind == "rotate":
            return {"name": "rotated", "scopes": ["read"], "metadata": {}, "visibility": "KEY_VISIBILITY_UNSPECIFIED"}
        if kind == "revoke":
            return {"reason": "REVOCATION_REASON_KEY_COMPROMISE"}
        if kind == "admin_key":
            return {"name": "hostile", "permissions": ["keys.read"], "ttl": "1h"}
        if kind == "batch_import":
            return {"requests": [self.base_body("import") for _ in range(rng.randint(1, 3))]}
        if kind == "verify":
            return {"credential": w["secret"], "expected_audiences": ["edge"]}
        if kind == "batch_verify":
            return {"requests": [{"credential": w["secret"]}, {"credential": "nope"}]}
        if kind == "self_revoke":
            return {"credential": self.garbage_credential(), "reason": "REVOCATION_REASON_KEY_COMPROMISE"}
        if kind == "derive":
            return {"credential": w["secret"], "algorithm": rng.choice(["TOKEN_ALGORITHM_JWT", "TOKEN_ALGORITHM_MACAROON", 2]),
                    "ttl": "5m", "scopes": ["read"], "audiences": ["edge"], "custom_claims": {"role": "viewer"}}
        return {}

    def wrong_value(self, field):
        rng = self.rng
        pool = [None, 0, -1, 1, 1.5, -0.0, 1e308, 2 ** 63, -(2 ** 63) - 1, 2 ** 64, True, False, "", " ", "x", "\u0000",
                [], [None], [1, 2], [[]], ["a", 1], {}, {"a": None}, {"a": [1]}, "9" * 400, "KEY_STATUS_ACTIVE",
                "REVOCATION_REASON_UNKNOWN", 99, -5, "1", "0x10", "1e3", "NaN", "-1s", "0s", "99999999999h", "1y1y1y1y",
                "1.5s", "P1D", "315360001s", "𝟙h", "10.0.0.0/33", "::1/129", "1.2.3.4/-1", "999.1.1.1", ["10.0.0.0/8"] * 101,
                ["s"] * 101, ["x" * 257], [" a"], ["\u0007"], {"k" * 100: "v" * 70000}, self.nested_object(11)]
        return rng.choice(pool)

    def nested_object(self, depth):
        value = "leaf"
        for _ in range(depth):
            value = {"n": value}
        return value

    def field_paths(self, body, prefix=()):
        """All (path) tuples of a nested dict/list body, containers included."""
        paths = []
        if isinstance(body, dict):
            for key, value in body.items():
                paths.append(prefix + (key,))
                paths.extend(self.field_paths(value, prefix + (key,)))
        elif isinstance(body, list):
            for index, value in enumerate(body):
                paths.append(prefix + (index,))
                paths.extend(self.field_paths(value, prefix + (index,)))
        return paths

    @staticmethod
    def set_path(body, path, value):
        target = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    # ---- bodies -------------------------------------------------------------------------------------------
    def bad_json(self, kind):
        """(subkind, body bytes) — malformed or hostile JSON for a body of `kind`."""
        rng = self.rng
        base = self.base_body(kind)
        text = json.dumps(base)
        choice = rng.choices(
            ["truncated", "wrong-type", "null", "duplicate-keys", "invalid-utf8", "bad-escape", "syntax", "top-level",
             "huge-number", "nul-byte", "long-string", "nesting", "enum", "limits", "empty"],
            [12, 20, 6, 6, 8, 6, 10, 4, 6, 5, 3, 3, 5, 5, 2])[0]
        if choice == "truncated":
            cut = rng.randrange(0, max(1, len(text)))
            return choice, text[:cut].encode()
        if choice == "wrong-type":
            paths = self.field_paths(base)
            if paths:
                path = rng.choice(paths)
                self.set_path(base, path, self.wrong_value(path))
            return f"{choice}", json.dumps(base).encode()
        if choice == "null":
            option = rng.randrange(3)
            if option == 0:
                return choice, b"null"
            if option == 1:
                return choice, json.dumps({key: None for key in base}).encode()
            paths = self.field_paths(base)
            if paths:
                self.set_path(base, rng.choice(paths), None)
            return choice, json.dumps(base).encode()
        if choice == "duplicate-keys":
            if not base:
                return choice, b'{"a":1,"a":2}'
            key = rng.choice(list(base))
            return choice, (text[:-1] + ", " + json.dumps(key) + ": " + json.dumps(self.wrong_value(key)) + "}").encode() if len(base) else b"{}"
        if choice == "invalid-utf8":
            bad = rng.choice([b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\x80", b"\xf4\x90\x80\x80"])
            raw = text.encode()
            quotes = [i for i, c in enumerate(raw) if c == 0x22]
            where = rng.choice(quotes) + 1 if quotes and rng.random() < 0.8 else rng.randrange(len(raw) + 1)
            return choice, raw[:where] + bad + raw[where:]
        if choice == "bad-escape":
            escape = rng.choice(["\\ud800", "\\udc00\\ud800", "\\u0000", "\\x41", "\\u12", "\\U0001F600", "\\", "\\uZZZZ", "\\ud83d\\u0041", "\\'"])
            key = rng.choice(list(base)) if base else "credential"
            return choice, ('{"' + key + '":"a' + escape + 'b"}').encode()
        if choice == "syntax":
            variants = [text[:-1] + ",}", "// c\n" + text, text.replace('"', "'"), re.sub(r'"(\w+)":', r"\1:", text),
                        text + "x", text + text, "\ufeff" + text, text.replace(":", "=", 1), "{" + text, text + "}",
                        "{,}", "{:}", '{"a"}', '{"a":}', "[1,]", '{"a":1 "b":2}', text.replace(", ", ",,", 1),
                        text.replace(" ", "\u00a0"), '{"a":tru}', '{"a":nul}', '{"a":+1}', '{"a":01}', '{"a":0x10}',
                        '{"a":.5}', '{"a":1.}', '{"a":-}', '{"a":"\n"}', '{"a":"\t"}', '{"a":"\x01"}', "\x00" + text]
            return choice, rng.choice(variants).encode("utf-8", "surrogatepass")
        if choice == "top-level":
            return choice, rng.choice([b"[]", b"[{}]", b'"x"', b"1", b"true", b"false", b"null", b"-0", b'""', b"[" + text.encode() + b"]"])
        if choice == "huge-number":
            number = rng.choice(["1e999999", "-1e-999999", "123456789012345678901234567890", "9" * rng.choice([400, 5000, 20000]),
                                 "0." + "0" * 1000 + "1", "1E+", "-", "NaN", "Infinity", "-Infinity", "1e-2147483649", "18446744073709551616",
                                 "-9223372036854775809", "9223372036854775807", "4.9e-324", "1.7976931348623157e309"])
            paths = self.field_paths(base) or [("x",)]
            path = rng.choice(paths)
            marker = "__NUMBER__"
            try:
                self.set_path(base, path, marker)
            except (KeyError, IndexError, TypeError):
                base = {"x": marker}
            return choice, json.dumps(base).replace('"' + marker + '"', number).encode()
        if choice == "nul-byte":
            raw = text.encode()
            where = rng.randrange(len(raw) + 1)
            return choice, raw[:where] + b"\x00" * rng.randint(1, 3) + raw[where:]
        if choice == "long-string":
            paths = [p for p in self.field_paths(base) if isinstance(p[-1], str)] or [("x",)]
            self.set_path(base, rng.choice(paths), rng.choice(["a", "é", "\\", "🔑", " "]) * rng.choice([4097, 8193, 65537, 200000]))
            return choice, json.dumps(base, ensure_ascii=False).encode()
        if choice == "nesting":
            depth = rng.choice([11, 64, 200, 513, 1000])
            opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
            nested = opener * depth + "1" + closer * depth
            key = rng.choice(list(base)) if base else "x"
            return choice, ('{"' + key + '":' + nested + "}").encode()
        if choice == "enum":
            field = rng.choice(["reason", "algorithm", "visibility", "status", "revocation_reason"])
            base[field] = rng.choice(["", "UNKNOWN", "revocation_reason_key_compromise", 99, -1, 2 ** 40, 1.5, "1", "KEY_STATUS_ACTIVE",
                                      "REVOCATION_REASON_PRIVILEGE_WITHDRAWN", "TOKEN_ALGORITHM_MACAROON ", None, [], {}])
            if rng.random() < 0.3:
                base["description"] = "d" * rng.choice([1, 1025])
            return choice, json.dumps(base).encode()
        if choice == "limits":
            field, value = rng.choice([
                ("scopes", ["s%d" % i for i in range(101)]), ("scopes", ["a b"]), ("scopes", [""]), ("name", "n" * 256),
                ("name", ""), ("actor_id", "a" * 256), ("actor_id", "a\u0007"), ("metadata", {"k": "v" * 66000}),
                ("metadata", self.nested_object(12)), ("ttl", "0.5s"), ("ttl", "315360001s"), ("ttl", "1mo1mo1mo1mo1mo1y1y1y1y1y1y1y1y1y1y1y"),
                ("ttl", "1" * 30 + "h"), ("rate_limit_policy", {"quota": "0", "window": "60s"}),
                ("rate_limit_policy", {"quota": "1000000001", "window": "86401s"}), ("rate_limit_policy", {"quota": "x", "window": "1.5s"}),
                ("rate_limit_policy", {"quota": 5, "window": "60s", "unit": "bytes"}), ("ip_restriction", {"allowed_cidrs": ["x"] * 3}),
                ("request_id", "r" * 129), ("request_id", "é"), ("expected_audiences", ["a"] * 101), ("expected_audiences", ["a" * 257]),
                ("audiences", ["a"] * 21), ("custom_claims", {"c": "x" * 70000}), ("custom_claims", {"exp": 1, "sub": "s", "": ""}),
                ("requests", []), ("requests", [{"credential": "x"}] * 101), ("requests", [None, 1, "x", []]),
                ("requests", [{"raw_key": "k%d" % i, "name": "n", "actor_id": "a"} for i in range(1001)]),
                ("raw_key", "k" * 8193), ("raw_key", "k k"), ("raw_key", self.world["secret"]), ("raw_key", "mc_v1_AAAA"),
                ("visibility", "KEY_VISIBILITY_PUBLIC"), ("key_id", str(uuid.UUID(int=rng.getrandbits(128)))), ("credential", "c" * 8193),
            ])
            base[field] = value
            return choice, json.dumps(base).encode()
        return choice, rng.choice([b"", b" ", b"\r\n", b"\x00", b"{}", b"{ }"])

    # ---- one request --------------------------------------------------------------------------------------
    def headers_for(self, body, content_type="application/json"):
        headers = []
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        return headers

    def make(self, kind, method, target, body=b"", headers=None, expect=None, garbage=None, **extra):
        rng = self.rng
        headers = list(headers if headers is not None else self.headers_for(body))
        request_id = None
        if rng.random() < 0.1:
            request_id = rng.choice(["hostile-" + self.rand_text(1, 20), "x" * 129, "bad id", "ключ", "a\tb", "", "_:.-", "r" * 128])
            headers.append(("X-Request-ID", request_id))
        strict = strict_path_expectation(target)
        if strict:
            kind, expect = strict, {404}
        if parser_may_refuse(method, target, headers):
            # The HTTP parser may refuse the request before routing (400 with the envelope, but without the request's
            # X-Request-ID, which it did not read).
            expect = None
            request_id = None
        raw = http_request(method, target, headers, body, host=self.host)
        summary = f"{show(method, 40)} {show(target, 160)}"
        extra_headers = [(n, v) for n, v in headers if (n, v) != ("Content-Type", "application/json")]
        if extra_headers:
            summary += "  " + " ".join(f"[{show(n, 30)}: {show(v, 60)}]" for n, v in extra_headers[:3])
            if len(extra_headers) > 3:
                summary += f" …(+{len(extra_headers) - 3} headers)"
        if body:
            summary += f"  body[{len(body)}]={body[:100]!r}" + ("…" if len(body) > 100 else "")
        return Case(kind, method, target, raw, expect=expect, garbage=garbage, summary=summary, request_id=request_id, **extra)

    def route_case(self, category):
        rng = self.rng
        method, template, body_kind, limit = rng.choice(ROUTES)
        target = self.fill(template)
        if category == "json" and body_kind in (None, "list"):
            # Bodies on body-less routes (must be ignored or refused, never crash).
            sub, body = self.bad_json(rng.choice(["verify", "issue", "revoke"]))
            return self.make(f"json:{sub} on a body-less route", method, target, body)
        if category == "json":
            sub, body = self.bad_json(body_kind)
            return self.make(f"json:{sub}", method, target, body)
        if category == "wrong-type":
            base = self.base_body(body_kind or "verify")
            paths = self.field_paths(base)
            if paths:
                path = rng.choice(paths)
                self.set_path(base, path, self.wrong_value(path))
            return self.make("json:wrong-type", method, target, json.dumps(base).encode())
        if category == "query":
            return self.query_case(method, template, body_kind)
        if category == "key-id":
            templates = [r for r in ROUTES if "{" in r[1]]
            method, template, body_kind, limit = rng.choice(templates)
            body = json.dumps(self.base_body(body_kind)).encode() if body_kind else b""
            return self.make("key-id", method, self.fill(template), body)
        if category == "content-type":
            body = json.dumps(self.base_body(body_kind or "verify")).encode()
            content_type = rng.choice([None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                       "application/json; charset=utf-16", "application/json; charset=latin1", "application/xml",
                                       "", "*/*", "application/json\x01", "application/json, text/plain", "APPLICATION/JSON",
                                       "application/json;;;", "x" * 2000, "application/octet-stream"])
            if rng.random() < 0.3:
                body = rng.choice([b"a=b&c=d", b"<xml/>", body.decode().encode("utf-16"), b"--x\r\n\r\n--x--"])
            return self.make("content-type", method, target, body, headers=self.headers_for(body, content_type))
        if category == "headers":
            return self.header_case(method, target, body_kind)
        raise AssertionError(category)

    def query_case(self, method, template, body_kind):
        rng = self.rng
        if body_kind != "list" and not (body_kind or "").startswith("update") and rng.random() < 0.7:
            lists = [r for r in ROUTES if r[2] in ("list", "update_issued", "update_imported")]
            method, template, body_kind, _ = rng.choice(lists)
        target = self.fill(template)
        values = {
            "page_size": ["-1", "0", "1", "1000", "1001", "99999999999999999999", "-99999999999999999999", "abc", "1.5", " 1",
                          "1e3", "0x10", "", "+5", "٣", "1 ", "9223372036854775807", "-9223372036854775808", "\x00"],
            "page_token": ["", "garbage", "AAAA", "AQ", "=", "%", base64.urlsafe_b64encode(rng.randbytes(rng.randint(0, 120))).decode().rstrip("="),
                           "a" * rng.choice([100, 4000]), "\x00", "..", "AQ" + "A" * 40, "😀"],
            "filter": ["", "actor_id=", 'actor_id="a"', 'actor_id="a" AND actor_id="b"', "status=KEY_STATUS_UNSPECIFIED",
                       'name="x"', 'actor_id="unterminated', 'actor_id="\\"', '(actor_id="a")', 'actor_id="a" OR status=KEY_STATUS_ACTIVE',
                       "x" * rng.choice([1025, 3000]), "\x00", "актор", 'actor_id="a" and status=KEY_STATUS_ACTIVE', "AND", 'actor_id = "a"  AND  status = KEY_STATUS_REVOKED',
                       'actor_id="\\x"', 'status="KEY_STATUS_ACTIVE"', "status=", "=", 'actor_id="a"AND status=KEY_STATUS_ACTIVE', 'actor_id="' + "\\\\" * 600 + '"'],
            "update_mask": ["", "foo", "actor_id", "*", "name,foo", ",,,", "name,,scopes", "NAME", " name ", "name\x00", "a" * 3000,
                            "metadata.team", "rate_limit_policy.quota", "status", "key_id", "*,name", "name,name", "expire_time", "visibility"],
            "junk": ["", "x", "%", "%zz", "&&", "=="],
        }
        params = []
        names = ["page_size", "page_token", "filter"] if body_kind == "list" else ["update_mask"] if body_kind else []
        names = names + ["junk"]
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(names)
            params.append((name if name != "junk" else rng.choice(["x", "", "page_size[]", "update_mask", "a" * 100]), rng.choice(values[name])))
        raw_mode = rng.random() < 0.2
        if raw_mode:
            # Unencoded or invalid escapes: bytes the parser must still survive.
            query = "&".join(f"{n}={v}" for n, v in params) + rng.choice(["", "%", "%zz", "%ff%fe", "&=&", "#frag", "%00", ";a=b"])
            query = query.replace(" ", "%20").replace("\x00", "%00")
        else:
            query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        body = b""
        if body_kind and body_kind.startswith("update"):
            body = json.dumps(self.base_body(body_kind)).encode()
        return self.make("query", method, target + "?" + query, body)

    def header_case(self, method, target, body_kind):
        rng = self.rng
        body = json.dumps(self.base_body(body_kind or "verify")).encode() if body_kind not in (None, "list") else b""
        headers = self.headers_for(body)
        option = rng.randrange(10)
        kind = "headers"
        if option == 0:
            headers.append(("Expect", "100-continue"))
            kind = "headers:expect-100"
        elif option == 1:
            headers += [("X-Filler-%d" % i, "v" * rng.randint(1, 100)) for i in range(rng.randint(20, 120))]
            kind = "headers:many"
        elif option == 2:
            headers += [("Content-Type", "text/plain"), ("Content-Type", "application/json")]
            kind = "headers:duplicate-content-type"
        elif option == 3:
            headers.append(("Content-Encoding", rng.choice(["gzip", "br", "identity", "x"])))
            kind = "headers:content-encoding"
        elif option == 4:
            headers.append(("X-Forwarded-For", rng.choice(["1.2.3.4, 5.6.7.8", "not-an-ip", "", ",,,", "::1", "1.2.3.4" + ", 9.9.9.9" * 200])))
            headers.append(("X-Real-IP", rng.choice(["x", "999.0.0.1", "::ffff:1.2.3.4"])))
            kind = "headers:client-ip"
        elif option == 5:
            headers += [("Cache-Control", rng.choice(["no-cache", "no-store, no-cache", "max-age=-1", "\x7f", "x" * 1000])), ("Pragma", "no-cache")]
            kind = "headers:cache-control"
        elif option == 6:
            # Content-Length shorter than the body: the rest reaches the parser as the next request.
            raw = http_request(method, target, headers + [("Content-Length", str(max(0, len(body) - rng.randint(1, 10))))],
                               body + b"GARBAGE / HTTP/1.1\r\n\r\n", host=self.host, length=False, close=False)
            return Case("headers:short-content-length", method, target, raw, summary=f"{method} {target} Content-Length < body, then garbage")
        elif option == 7:
            # No Host: 400 on HTTP/1.1 (one authority per request, spec §16.13); HTTP/1.0 predates Host and is served.
            version = rng.choice(["HTTP/1.0", "HTTP/1.1"])
            raw = http_request(method, target, headers, body, version=version, host=None, close=True)
            expect = {400} if version == "HTTP/1.1" else ({404} if strict_path_expectation(target) else None)
            return Case("headers:no-host", method, target, raw, summary=f"{method} {target} without Host ({version})",
                        expect=expect)
        elif option == 8:
            # A valid chunked body.
            chunks = b""
            rest = body
            while rest:
                size = rng.randint(1, 20)
                chunks += b"%x\r\n" % len(rest[:size]) + rest[:size] + b"\r\n"
                rest = rest[size:]
            raw = http_request(method, target, headers + [("Transfer-Encoding", "chunked")], chunks + b"0\r\n\r\n", host=self.host, length=False)
            return Case("headers:chunked-ok", method, target, raw, summary=f"{method} {target} valid chunked body")
        else:
            headers.append(("Accept", rng.choice(["text/html", "application/xml", "*/*;q=0", "\x01"])))
            kind = "headers:accept"
        return self.make(kind, method, target, body, headers=headers)

    def path_case(self):
        """Non-canonical spellings of real paths (§15.4 → 404) and %3A spellings (valid)."""
        rng = self.rng
        method, template, body_kind, _ = rng.choice(ROUTES)
        path = self.fill(template)
        segments = path.split("/")[1:]
        option = rng.randrange(9)
        if option == 0:  # percent-encode one letter
            candidates = [(i, j) for i, s in enumerate(segments) for j, c in enumerate(s) if c.isalnum()]
            i, j = rng.choice(candidates)
            char = segments[i][j]
            code = ("%" + rng.choice(["%02x", "%02X"]) % ord(char))
            segments[i] = segments[i][:j] + code + segments[i][j + 1:]
            path = "/" + "/".join(segments)
        elif option == 1:  # empty segment
            i = rng.randrange(len(segments) + 1)
            path = "/" + "/".join(segments[:i] + [""] + segments[i:])
        elif option == 2:  # `.` segment
            i = rng.randrange(len(segments))
            path = "/" + "/".join(segments[:i] + ["."] + segments[i:])
        elif option == 3:  # `x/..`
            i = rng.randrange(len(segments))
            path = "/" + "/".join(segments[:i] + [rng.choice(["x", segments[i]]), ".."] + segments[i:])
        elif option == 4:  # trailing slash
            path = path + "/"
        elif option == 5:  # encoded slash
            if len(segments) > 1:
                i = rng.randrange(len(segments) - 1)
                path = "/" + "/".join(segments[:i]) + ("/" if i else "") + segments[i] + rng.choice(["%2F", "%2f"]) + "/".join(segments[i + 1:])
            else:
                path = "/%2F" + segments[0]
        elif option == 6:  # encoded dots
            i = rng.randrange(len(segments) + 1)
            path = "/" + "/".join(segments[:i] + [rng.choice(["%2e", "%2E%2e", ".%2e"])] + segments[i:])
        elif option == 7:  # double-encoded colon or %3A spellings
            if ":" in path and rng.random() < 0.5:
                path = path.replace(":", rng.choice(["%3A", "%3a"]))  # valid
            else:
                path = path.replace(":", "%253A") if ":" in path else path.replace("a", "%61", 1)
        else:  # leading `//` (a proxy filtering on the raw prefix must not be bypassed)
            path = "/" + path
        body = json.dumps(self.base_body(body_kind)).encode() if body_kind not in (None, "list") else b""
        return self.make("path", method, path, body)

    def method_case(self):
        rng = self.rng
        served = collections.defaultdict(set)
        for method, template, _, _ in ROUTES:
            served[template].add(method)
        templates = list(served) + EXTRA_PATHS
        template = rng.choice(templates)
        body = json.dumps({"credential": "x"}).encode() if rng.random() < 0.5 else b""
        if rng.random() < 0.7:
            target = self.fill(template)
            methods = served_methods(target) if template in served else {"GET"}
            method = rng.choice([m for m in STANDARD_METHODS if m not in methods])
            expect = {405} if template in served and methods else None
            return self.make("method:wrong", method, target, body, expect=expect)
        method = rng.choice(ODD_METHODS)
        case = self.make("method:odd", method, self.fill(template), b"" if method == "HEAD" else body)
        return case

    def unknown_path_case(self):
        rng = self.rng
        path = rng.choice([
            "/", "/v2alpha1", "/v2alpha1/admin", "/v2alpha2/admin/issuedApiKeys", f"{ADMIN}/unknown", "/metrics", "/health",
            "/HEALTH/ALIVE", "/v2alpha1/Admin/issuedApiKeys", f"{ADMIN}/issuedapikeys", f"{ADMIN}/apiKeys:unknown",
            f"{ADMIN}/apiKeys:", f"{ADMIN}/apiKeys", "/v2alpha1/apiKeys:verify", f"{ADMIN}/apiKeys:selfRevoke",
            f"{ADMIN}/issuedApiKeys/{self.world['issued_id']}/extra", "/v2alpha1/admin/derivedKeys/jwks", "/favicon.ico",
            "/.env", "/admin", "/v2alpha1/admin/issuedApiKeys:rotate", f"{ADMIN}/importedApiKeys:batchDelete", "/" + "a" * 3000,
            "/v2alpha1/admin/" + "x/" * 200,
        ])
        method = rng.choice(STANDARD_METHODS + ["HEAD"])
        return self.make("unknown-path", method, path, b"", expect=None if method == "HEAD" else {404})

    def credential_case(self):
        rng = self.rng
        endpoint = rng.choice(["verify", "batch_verify", "derive", "self_revoke", "import"])
        credential = self.garbage_credential()
        if endpoint == "verify":
            body = {"credential": credential}
            if rng.random() < 0.3:
                body["expected_audiences"] = rng.choice([["edge"], [], ["a" * 256], [""]])
            path = f"{ADMIN}/apiKeys:verify"
        elif endpoint == "batch_verify":
            body = {"requests": [{"credential": self.garbage_credential()} for _ in range(rng.randint(1, 5))]}
            path = f"{ADMIN}/apiKeys:batchVerify"
        elif endpoint == "derive":
            body = {"credential": credential, "algorithm": rng.choice(["TOKEN_ALGORITHM_JWT", "TOKEN_ALGORITHM_MACAROON"])}
            path = f"{ADMIN}/apiKeys:derive"
        elif endpoint == "self_revoke":
            body = {"credential": credential, "reason": "REVOCATION_REASON_KEY_COMPROMISE"}
            path = "/v2alpha1/apiKeys:selfRevoke"
        else:
            body = {"raw_key": credential, "name": "g", "actor_id": "g"}
            path = f"{ADMIN}/importedApiKeys"
        garbage = None if endpoint == "import" else (endpoint, [credential] if endpoint != "batch_verify" else [r["credential"] for r in body["requests"]])
        if endpoint == "import":
            self.imported_garbage.add(credential)
        return self.make(f"credential:{endpoint}", "POST", path, json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"), garbage=garbage)

    # ---- risky cases: run one at a time, each followed by a liveness check ----------------------------------
    def risky_cases(self):
        rng, cases = self.rng, []
        verify, issue = f"{ADMIN}/apiKeys:verify", f"{ADMIN}/issuedApiKeys"
        batch_verify, batch_create = f"{ADMIN}/apiKeys:batchVerify", f"{ADMIN}/importedApiKeys:batchCreate"

        def add(case):
            case.risky = True
            cases.append(case)

        # Deep nesting, top level and inside fields.
        for depth in [1000, 10000, 100000, 250000]:
            for opener, closer in [("[", "]"), ('{"a":', "}")]:
                for where in ["top", "field"]:
                    nested = opener * depth + closer * depth
                    body = (nested if where == "top" else '{"credential":"x","metadata":' + nested + "}").encode()
                    route = rng.choice([verify, issue, batch_verify, f"{ADMIN}/apiKeys:derive"])
                    add(self.make(f"json:deep-nesting {depth}", "POST", route, body))
        add(self.make("json:deep-nesting unclosed", "POST", verify, b"[" * 500000))
        # Many values (§15.6: more than 200 000 JSON values → 400).
        add(self.make("json:many-values", "POST", verify, ('{"credential":"x","pad":[' + "0," * 250000 + "0]}").encode(), expect={400}))
        add(self.make("json:many-values", "POST", verify, ('{"credential":"x","pad":[' + "[0,0]," * 70000 + "0]}").encode(), expect={400}))
        add(self.make("json:many-values", "POST", batch_verify, json.dumps({"requests": [{}] * 210000}).encode(), expect={400}))
        # Huge numbers and long strings.
        for digits in [100000, 900000]:
            add(self.make("json:huge-number", "POST", verify, ('{"credential":"x","n":' + "9" * digits + "}").encode()))
            add(self.make("json:huge-number", "POST", issue, ('{"name":"n","actor_id":"a","rate_limit_policy":{"quota":' + "9" * digits + ',"window":"1s"}}').encode()))
        add(self.make("json:huge-exponent", "POST", issue, b'{"name":"n","actor_id":"a","rate_limit_policy":{"quota":1e99999999999,"window":"1s"}}'))
        for field, route in [("credential", verify), ("name", issue), ("raw_key", f"{ADMIN}/importedApiKeys"), ("credential", f"{ADMIN}/apiKeys:derive")]:
            add(self.make("json:long-string", "POST", route, json.dumps({field: "a" * 1_000_000, "actor_id": "a"})[:ONE - 10].encode() + b'"}'))
        # Bodies around the limits (§2.6). Exactly at the limit must not be 413; one byte over must be.
        def padded(prefix, size, suffix=b"}"):
            return prefix + b" " * (size - len(prefix) - len(suffix)) + suffix
        add(self.make("limit:1MiB exact", "POST", verify, padded(b'{"credential":"x"', ONE), expect={200}))
        add(self.make("limit:1MiB+1", "POST", verify, padded(b'{"credential":"x"', ONE + 1), expect={413}))
        add(self.make("limit:1MiB+1", "POST", "/v2alpha1/apiKeys:selfRevoke", padded(b'{"credential":"x"', ONE + 1), expect={413}))
        add(self.make("limit:16MiB on a 1MiB route", "PATCH", f"{ADMIN}/issuedApiKeys/{self.world['issued_id']}", padded(b'{"name":"x"', 2 * ONE), expect={413}))
        add(self.make("limit:16MiB exact", "POST", batch_verify, padded(b'{"requests":[{"credential":"x"}]', SIXTEEN), expect={200}))
        add(self.make("limit:16MiB+1", "POST", batch_create, padded(b'{"requests":[]', SIXTEEN + 1), expect={413}))
        big = padded(b'{"name":"n","actor_id":"a"', ONE + 1)
        chunked = b"".join(b"%x\r\n" % len(big[i:i + 65536]) + big[i:i + 65536] + b"\r\n" for i in range(0, len(big), 65536)) + b"0\r\n\r\n"
        add(Case("limit:1MiB+1 chunked", "POST", issue, http_request("POST", issue, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], chunked, host=self.host, length=False),
                 expect={413}, risky=True, summary=f"POST {issue} chunked body of {ONE + 1} bytes"))
        add(Case("limit:Content-Length 16MiB+1 without body", "POST", batch_verify,
                 http_request("POST", batch_verify, [("Content-Type", "application/json"), ("Content-Length", str(SIXTEEN + 1))], b"", host=self.host, length=False),
                 expect={413}, risky=True, summary=f"POST {batch_verify} Content-Length: {SIXTEEN + 1}, no body sent"))
        cases.extend(self.raw_cases())
        return cases

    def raw_cases(self):
        """Broken HTTP over raw sockets (§15.3: 400/431 with the envelope where a response can still be written)."""
        host = self.host
        alive = "/health/alive"
        verify = f"{ADMIN}/apiKeys:verify"
        body = b'{"credential":"x"}'
        H = lambda *lines: b"\r\n".join(lines) + b"\r\n\r\n"
        host_line = b"Host: " + host.encode()
        parse = {400, 431, 414, 505, 501}  # refusals by the HTTP layer
        table = [
            ("raw:NUL in header name", H(b"GET /health/alive HTTP/1.1", host_line, b"Bad\x00Header: 1", b"Connection: close"), {400}),
            ("raw:NUL in header value", H(b"GET /health/alive HTTP/1.1", host_line, b"X-A: a\x00b", b"Connection: close"), {400}),
            ("raw:space before colon", H(b"GET /health/alive HTTP/1.1", host_line, b"X-A : 1", b"Connection: close"), {400}),
            ("raw:header without colon", H(b"GET /health/alive HTTP/1.1", host_line, b"NoColonHere", b"Connection: close"), {400}),
            ("raw:space in header name", H(b"GET /health/alive HTTP/1.1", host_line, b"Bad Header: 1", b"Connection: close"), {400}),
            ("raw:separator in header name", H(b"GET /health/alive HTTP/1.1", host_line, b"Bad(Header): 1", b"Connection: close"), {400}),
            ("raw:DEL in header value", H(b"GET /health/alive HTTP/1.1", host_line, b"X-A: a\x7fb", b"Connection: close"), None),
            ("raw:bare CR in header", H(b"GET /health/alive HTTP/1.1", host_line, b"X-A: a\rb", b"Connection: close"), {400}),
            ("raw:obs-fold continuation", H(b"GET /health/alive HTTP/1.1", host_line, b"X-A: a", b" folded", b"Connection: close"), None),
            ("raw:8-bit header name", H(b"GET /health/alive HTTP/1.1", host_line, "Клюк: 1".encode(), b"Connection: close"), {400}),
            ("raw:empty header name", H(b"GET /health/alive HTTP/1.1", host_line, b": value", b"Connection: close"), {400}),
            ("raw:garbage request line", H(b"GARBAGE"), {400}),
            ("raw:request line without version", H(b"GET /health/alive"), {400}),
            ("raw:unknown version", H(b"GET /health/alive HTTP/9.9", host_line, b"Connection: close"), parse),
            ("raw:version garbage", H(b"GET /health/alive HTTX/1.1", host_line, b"Connection: close"), {400}),
            ("raw:double spaces", H(b"GET  /health/alive  HTTP/1.1", host_line, b"Connection: close"), None),
            ("raw:raw space in target", H(b"GET /health/al ive HTTP/1.1", host_line, b"Connection: close"), None),
            ("raw:control byte in target", H(b"GET /health/\x01alive HTTP/1.1", host_line, b"Connection: close"), {400}),
            ("raw:8-bit target", H("GET /health/ключ HTTP/1.1".encode(), host_line, b"Connection: close"), None),
            ("raw:NUL in target", H(b"GET /health/\x00 HTTP/1.1", host_line, b"Connection: close"), {400}),
            ("raw:absolute-form target", H(b"GET http://" + host.encode() + b"/health/alive HTTP/1.1", host_line, b"Connection: close"), None),
            ("raw:asterisk target", H(b"OPTIONS * HTTP/1.1", host_line, b"Connection: close"), None),
            ("raw:authority target", H(b"CONNECT 127.0.0.1:1 HTTP/1.1", host_line, b"Connection: close"), None),
            ("raw:HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None),
            ("raw:TLS ClientHello", bytes.fromhex("16030100a5010000a10303") + bytes(range(32)) + b"\x00\x00\x02\x00\x2f\x01\x00" + b"\x00" * 40, {400}),
            ("raw:LF-only line endings", b"GET /health/alive HTTP/1.1\n" + host_line + b"\nConnection: close\n\n", None),
            ("raw:lowercase method", H(b"get /health/alive HTTP/1.1", host_line, b"Connection: close"), None),
            ("raw:bad chunk size", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"zz\r\nabc\r\n0\r\n\r\n", {400}),
            ("raw:negative chunk size", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"-5\r\nabcde\r\n0\r\n\r\n", {400}),
            ("raw:overflowing chunk size", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", {400, 413}),
            ("raw:chunk without CRLF", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"3\r\nabcX0\r\n\r\n", {400}),
            ("raw:chunk longer than size", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"2\r\n" + body + b"\r\n0\r\n\r\n", {400}),
            ("raw:chunk extension garbage", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"%x;\x01=\x02\r\n" % len(body) + body + b"\r\n0\r\n\r\n", {400}),
            ("raw:bad trailer", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked", b"Connection: close") + b"%x\r\n" % len(body) + body + b"\r\n0\r\nBad Trailer\r\n\r\n", {400}),
            ("raw:unknown transfer-encoding", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: gzip", b"Connection: close") + body, {501}),
            ("raw:chunked not last", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked, gzip", b"Connection: close") + b"0\r\n\r\n", {400, 501}),
            ("raw:Content-Length and Transfer-Encoding", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: 5", b"Transfer-Encoding: chunked", b"Connection: close") + b"0\r\n\r\n", {400}),
            ("raw:two different Content-Lengths", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: 18", b"Content-Length: 3", b"Connection: close") + body, {400}),
            ("raw:Content-Length not a number", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: abc", b"Connection: close") + body, {400}),
            ("raw:negative Content-Length", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: -1", b"Connection: close") + body, {400}),
            ("raw:overflowing Content-Length", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: 99999999999999999999999", b"Connection: close") + body, {400, 413}),
            ("raw:header block > 16 KiB (one header)", H(b"GET /health/alive HTTP/1.1", host_line, b"X-Big: " + b"a" * 20000, b"Connection: close"), {431}),
            ("raw:header block > 16 KiB (many headers)", H(b"GET /health/alive HTTP/1.1", host_line, *[b"X-H%d: %s" % (i, b"v" * 100) for i in range(200)], b"Connection: close"), {431}),
            ("raw:header block > 16 KiB on a POST", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: 18", b"X-Big: " + b"b" * 17000, b"Connection: close") + body, {431}),
            ("raw:header block of 64 KiB", H(b"GET /health/alive HTTP/1.1", host_line, b"X-Big: " + b"a" * 65536, b"Connection: close"), {431}),
            ("raw:request line > 16 KiB", H(b"GET /health/alive?" + b"q" * 20000 + b" HTTP/1.1", host_line, b"Connection: close"), {414, 431}),
            ("raw:header block just under 16 KiB", H(b"GET /health/alive HTTP/1.1", host_line, b"X-Big: " + b"a" * 15000, b"Connection: close"), {200}),
        ]
        cases = []
        for kind, raw, expect in table:
            cases.append(Case(kind, "RAW", kind, raw, expect=expect, risky=True, summary=f"{raw[:120]!r}" + ("…" if len(raw) > 120 else "")))
        # Pipelined: a valid request then a broken one on the same keep-alive connection.
        for second in [b"GARBAGE\r\n\r\n", b"GET /health/alive HTTP/1.1\r\nBad\x00: 1\r\n\r\n",
                       b"POST " + verify.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{"]:
            raw = b"GET /health/alive HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n" + second
            cases.append(Case("raw:pipelined valid then broken", "RAW", "pipelined", raw, expect={400}, risky=True,
                              min_responses=2, summary=f"{raw[:160]!r} (second answer must be a 400 envelope)"))
        # Truncated requests followed by a half-close: no response is required, but any response must be correct.
        for raw in [b"GET /health/al", H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Content-Length: 100") + b'{"cred',
                    H(b"POST " + verify.encode() + b" HTTP/1.1", host_line, b"Transfer-Encoding: chunked") + b"10\r\nabc"]:
            cases.append(Case("raw:truncated then half-close", "RAW", "truncated", raw, need_response=False, risky=True, half_close=True,
                              summary=f"{raw[:120]!r} then shutdown(SHUT_WR)"))
        return cases

    def all_cases(self, count):
        risky = self.risky_cases()
        rng = self.rng
        categories = ["json", "wrong-type", "query", "key-id", "content-type", "headers", "path", "method", "unknown", "credential"]
        weights = [30, 14, 11, 8, 5, 6, 10, 6, 3, 10]
        cases = []
        for _ in range(max(0, count - len(risky))):
            category = rng.choices(categories, weights)[0]
            if category == "path":
                cases.append(self.path_case())
            elif category == "method":
                cases.append(self.method_case())
            elif category == "unknown":
                cases.append(self.unknown_path_case())
            elif category == "credential":
                cases.append(self.credential_case())
            else:
                cases.append(self.route_case(category))
        for case in cases:
            if case.garbage and any(c in self.imported_garbage for c in case.garbage[1]):
                case.garbage = None
        return risky, cases


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for key, value in self.headers:
            if key == name:
                return value
        return None


def parse_responses(data, methods):
    """Parses every complete response in `data` (1xx interim responses skipped). Returns (responses, leftover)."""
    responses = []
    index = 0
    while True:
        end = data.find(b"\r\n\r\n", index)
        if end < 0:
            break
        head = data[index:end].decode("latin-1").split("\r\n")
        match = re.match(r"HTTP/\d\.\d (\d{3})", head[0])
        if not match:
            raise ValueError(f"bad status line {head[0][:80]!r}")
        status = int(match.group(1))
        headers = []
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        position = end + 4
        if 100 <= status < 200:
            index = position
            continue
        method = methods[len(responses)] if len(responses) < len(methods) else "GET"
        lengths = [v for k, v in headers if k == "content-length"]
        chunked = any(k == "transfer-encoding" and "chunked" in v.lower() for k, v in headers)
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif chunked:
            body, cursor = b"", position
            while True:
                line_end = data.find(b"\r\n", cursor)
                if line_end < 0:
                    return responses, data[index:]
                size = int(data[cursor:line_end].split(b";")[0], 16)
                if len(data) < line_end + 2 + size + 2:
                    return responses, data[index:]
                body += data[line_end + 2:line_end + 2 + size]
                cursor = line_end + 2 + size + 2
                if size == 0:
                    break
            position = cursor
        elif lengths:
            size = int(lengths[0])
            if len(data) < position + size:
                return responses, data[index:]
            body = data[position:position + size]
            position += size
        else:
            body = data[position:]  # until close; complete only at EOF (the caller parses again then)
            position = len(data)
        responses.append(Response(status, headers, body))
        index = position
    return responses, data[index:]


def complete(received, methods, count):
    try:
        return len(parse_responses(received, methods)[0]) >= count
    except Exception:
        return True  # garbage: stop waiting, the final parse reports it


def exchange(port, case):
    """Sends a case and reads every response until the server closes (or goes quiet). Returns (responses, error)."""
    raw = case.bytes()
    methods = [case.method] if case.method != "RAW" else [m.split(b" ")[0].decode("latin-1") for m in re.findall(rb"(?:^|\r\n\r\n)([A-Z]+ )", raw)] or ["GET"]
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    except OSError as error:
        return [], f"connect failed: {error!r}"
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    received = b""
    deadline = time.monotonic() + TIMEOUT
    error = None
    try:
        sent = 0
        sock.setblocking(False)
        # Send while watching for an early answer (a 413 before the whole body is out).
        while sent < len(raw):
            readable, writable, _ = select.select([sock], [sock], [], max(0.0, deadline - time.monotonic()))
            if readable:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
                if complete(received, methods, 1):
                    break
            if writable:
                try:
                    sent += sock.send(raw[sent:sent + 262144])
                except (BrokenPipeError, ConnectionResetError):
                    break
            if time.monotonic() > deadline:
                error = "timeout while sending"
                break
        if case.half_close:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        quiet_after = None
        while error is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                error = f"timeout ({TIMEOUT:.0f}s) waiting for the response"
                break
            wait = remaining
            if complete(received, methods, max(len(methods), case.min_responses)):
                # Everything expected arrived; give a pipelined/garbage follow-up a moment, then stop.
                if quiet_after is None:
                    quiet_after = time.monotonic() + 0.3
                wait = max(0.0, min(wait, quiet_after - time.monotonic()))
                if wait == 0:
                    break
            readable, _, _ = select.select([sock], [], [], wait)
            if not readable:
                continue
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                if not received:
                    error = "connection reset without a response"
                break
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    try:
        responses, leftover = parse_responses(received, methods)
    except Exception as parse_error:
        return [], f"unparsable response {parse_error}: {received[:200]!r}"
    if leftover.strip():
        error = error or f"incomplete response: {leftover[:200]!r}"
    return responses, error


def envelope_problem(response, case, request_id):
    """None when `response` carries the §2.5 envelope, else what is wrong."""
    if not response.body:
        return "empty body"
    content_type = response.header("content-type") or ""
    try:
        document = json.loads(response.body)
    except Exception:
        return f"not JSON (content-type {content_type!r})"
    if not isinstance(document, dict) or set(document) != {"error"} or not isinstance(document["error"], dict):
        return "not {\"error\":{…}}"
    error = document["error"]
    if set(error) - {"code", "message", "status", "details"}:
        return f"unexpected members {sorted(set(error) - {'code', 'message', 'status', 'details'})}"
    if type(error.get("code")) is not int or error["code"] != response.status:
        return f"code {error.get('code')!r} != HTTP {response.status}"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return "message missing"
    if not isinstance(error.get("status"), str):
        return "status missing"
    details = error.get("details")
    if not isinstance(details, list) or len(details) < 2:
        return "details must hold ErrorInfo and RequestInfo"
    info, request_info = details[0], details[1]
    if not isinstance(info, dict) or info.get("@type") != "type.googleapis.com/google.rpc.ErrorInfo":
        return "details[0] is not an ErrorInfo"
    if info.get("domain") != "www.ory.com/talos":
        return f"domain {info.get('domain')!r}"
    reason = info.get("reason")
    if "metadata" in info and (not isinstance(info["metadata"], dict) or not all(isinstance(v, str) for v in info["metadata"].values())):
        return "metadata is not a string map"
    if response.status in FREE_REASON_STATUS:
        if error["status"] != FREE_REASON_STATUS[response.status] or not isinstance(reason, str) or not reason:
            return f"status {error['status']!r}/reason {reason!r} for HTTP {response.status}"
    elif reason not in REASONS:
        return f"reason {reason!r} is not in the §2.5 table"
    elif REASONS[reason] != (response.status, error["status"]):
        return f"reason {reason} must be {REASONS[reason]}, got ({response.status}, {error['status']!r})"
    if not isinstance(request_info, dict) or request_info.get("@type") != "type.googleapis.com/google.rpc.RequestInfo" \
            or not isinstance(request_info.get("request_id"), str) or not request_info["request_id"]:
        return "details[1] is not a RequestInfo with a request_id"
    echoed = response.header("x-request-id")
    if echoed is not None and echoed != request_info["request_id"]:
        return "request_id differs from the X-Request-ID header"
    if request_id is not None and REQUEST_ID_RE.match(request_id) and request_info["request_id"] != request_id:
        return f"the valid X-Request-ID {request_id!r} was not reused"
    if not content_type.lower().startswith("application/json"):
        return f"content-type {content_type!r}"
    return None


def imported_key_exists(port, raw_key):
    """Whether `raw_key` is stored as an imported key (key id per §4.5, default network)."""
    key_id = hashlib.new("sha512_256", b"00000000-0000-0000-0000-000000000000\x00" + raw_key.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        response = get(port, f"{ADMIN}/importedApiKeys/{key_id}")
        return response is not None and response.status == 200
    except Exception:
        return False


def judge(case, responses, error, port):
    """The list of (label, detail) problems of one case."""
    problems = []
    if error and (case.need_response or responses):
        problems.append(("no complete response" if not responses else "broken exchange", error))
    if not responses:
        if case.need_response and not error:
            problems.append(("no response (connection closed)", "the server closed the connection without answering"))
        return problems
    for position, response in enumerate(responses):
        status = response.status
        excerpt = response.body[:160]
        if status >= 500 and status != 503 and not (case.expect and status in case.expect):  # 501: §16.16
            problems.append((f"HTTP {status} (>= 500, not 503)", f"{status} {excerpt!r}"))
        if status >= 400:
            head = case.method == "HEAD" and position == 0
            if status == 503 and case.target.startswith("/health/ready"):
                pass  # §3.18: ready's own 503 body
            elif not head:
                problem = envelope_problem(response, case, case.request_id)
                if problem:
                    problems.append((f"HTTP {status} without the §2.5 envelope: {problem.split(' (')[0]}", f"{status} {problem}; body {excerpt!r}"))
    first = responses[0]
    if len(responses) < case.min_responses:
        problems.append((f"pipelined requests: {case.min_responses} answers expected, got {len(responses)}",
                         "statuses " + ", ".join(str(r.status) for r in responses) + f"; first body {first.body[:120]!r}"))
    judged = responses[case.min_responses - 1] if len(responses) >= case.min_responses else None
    if case.expect and judged is not None and judged.status not in case.expect:
        problems.append((f"expected {'/'.join(map(str, sorted(case.expect)))}, got {judged.status}", f"{judged.status} {judged.body[:160]!r}"))
    garbage = case.garbage[0] if case.garbage else None
    if garbage and first.status in (200, 201) and any(imported_key_exists(port, c) for c in case.garbage[1]):
        garbage = None  # imported as a raw key (by this run or an earlier one): it verifies, rightly
    if garbage and first.status in (200, 201):
        try:
            document = json.loads(first.body)
        except Exception:
            document = {}
        if garbage == "verify" and document.get("is_valid") is True:
            problems.append(("garbage credential verified", first.body[:200]))
        elif garbage == "batch_verify" and any(r.get("is_valid") for r in document.get("results", []) if isinstance(r, dict)):
            problems.append(("garbage credential verified in a batch", first.body[:200]))
        elif garbage in ("derive", "self_revoke"):
            problems.append((f"garbage credential accepted by {garbage}", first.body[:200]))
    return problems


def get(port, path, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    responses, _ = parse_responses(data, ["GET"])
    return responses[0] if responses else None


def call(port, method, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request(method, path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else {})


def alive(port):
    try:
        response = get(port, "/health/alive")
        return response is not None and response.status == 200
    except Exception:
        return False


def setup(port):
    """Real keys, so that hostile bodies also reach the code behind valid ids and credentials."""
    world = {}
    status, issued = call(port, "POST", f"{ADMIN}/issuedApiKeys", {"name": "hostile", "actor_id": "hostile", "scopes": ["read", "write"], "ttl": "24h"})
    assert status == 201, (status, issued)
    world["secret"], world["issued_id"] = issued["secret"], issued["issued_api_key"]["key_id"]
    status, revoked = call(port, "POST", f"{ADMIN}/issuedApiKeys", {"name": "hostile-revoked", "actor_id": "hostile"})
    assert status == 201, (status, revoked)
    world["revoked_id"] = revoked["issued_api_key"]["key_id"]
    call(port, "POST", f"{ADMIN}/apiKeys/{world['revoked_id']}:revoke", {"reason": "REVOCATION_REASON_KEY_COMPROMISE"})
    raw_key = "hostile_import_" + uuid.uuid4().hex
    status, imported = call(port, "POST", f"{ADMIN}/importedApiKeys", {"raw_key": raw_key, "name": "hostile", "actor_id": "hostile"})
    assert status == 201, (status, imported)
    world["imported_id"] = imported["key_id"]
    for algorithm, name in [("TOKEN_ALGORITHM_JWT", "jwt"), ("TOKEN_ALGORITHM_MACAROON", "macaroon")]:
        status, derived = call(port, "POST", f"{ADMIN}/apiKeys:derive", {"credential": world["secret"], "algorithm": algorithm, "ttl": "10m"})
        if status == 200:
            world[name] = derived["token"]["token"]
        else:
            print(f"note: deriving a {name} failed with {status} {json.dumps(derived)[:160]} (configure a JWT signing key)")
    return world


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--verbose", action="store_true", help="print every failing request, not 3 per group")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.base_url)
    port = url.port or 80
    if url.hostname not in ("127.0.0.1", "localhost"):
        print("note: the drill speaks to 127.0.0.1 only", file=sys.stderr)
    started = time.monotonic()
    if not alive(port):
        print(f"hostile: the server at {args.base_url} does not answer /health/alive")
        sys.exit(1)
    ROUTES[:] = load_routes(port)
    world = setup(port)
    rng = random.Random(args.seed)
    risky, cases = Generator(rng, f"127.0.0.1:{port}", world).all_cases(args.count)
    for index, case in enumerate(risky + cases):
        case.index = index
    statuses = collections.Counter()
    failures = collections.defaultdict(list)  # (label, kind) → [(case, detail)]
    failed_cases = set()
    lock = threading.Lock()
    aborted = []

    def run(case):
        try:
            responses, error = exchange(port, case)
        except Exception as harness_error:
            responses, error = [], f"harness error {harness_error!r}"
        problems = judge(case, responses, error, port)
        with lock:
            if responses:
                for response in responses:
                    statuses[str(response.status)] += 1
            else:
                statuses["timeout" if error and "timeout" in error else "no response"] += 1
            for label, detail in problems:
                failures[(label, case.kind)].append((case, detail))
                failed_cases.add(case.index)
        return responses, error

    # Risky cases one at a time, each followed by a liveness check (a crash is attributed to its case).
    for case in risky:
        run(case)
        if not alive(port):
            time.sleep(1)
            if not alive(port):
                failures[("server stopped answering /health/alive", case.kind)].append((case, "after this request"))
                failed_cases.add(case.index)
                aborted.append(case)
                break
    # The rest in parallel.
    if not aborted:
        queue = list(reversed(cases))
        refused = [0]

        def worker():
            while True:
                with lock:
                    if not queue or aborted:
                        return
                    case = queue.pop()
                responses, error = run(case)
                if error and "connect failed" in error:
                    with lock:
                        refused[0] += 1
                        if refused[0] >= 20 and not aborted and not alive(port):
                            aborted.append(case)

        threads = [threading.Thread(target=worker) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    final_alive = alive(port)
    if not final_alive:
        failures[("server does not answer /health/alive at the end", "final")].append((None, ""))
    elapsed = time.monotonic() - started
    total = len(risky) + len(cases)
    executed = sum(statuses.values())  # responses, not cases (pipelined cases count twice)

    print(f"hostile: seed {args.seed}, {total} requests ({len(risky)} risky ones run singly, {len(cases)} in parallel "
          f"by {args.workers} workers) in {elapsed:.1f}s against {args.base_url}")
    print("responses by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda x: (not x[0].isdigit(), x[0]))))
    not_envelope = sum(len(v) for (label, _), v in failures.items() if "without the §2.5 envelope" in label)
    server_errors = sum(len(v) for (label, _), v in failures.items() if label.startswith("HTTP 5"))
    print(f"error responses without the envelope: {not_envelope}; responses >= 500 other than 503: {server_errors}")
    if aborted:
        print(f"ABORTED: the server stopped answering after case #{aborted[0].index} [{aborted[0].kind}] {aborted[0].summary}")
    if failures:
        print("failures, grouped by problem (count per kind of request; examples: request → response):")
        by_label = collections.defaultdict(list)
        for (label, kind), items in failures.items():
            by_label[label].extend(items)
        for label, items in sorted(by_label.items(), key=lambda x: (-len(x[1]), x[0])):
            kinds = collections.Counter(case.kind if case else "final" for case, _ in items)
            print(f"  [{len(items)}×] {label}")
            print("      kinds: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
            if args.verbose:
                examples = items
            else:  # one example per kind, the most frequent kinds first, at most 8
                first_of_kind = {}
                for case, detail in items:
                    first_of_kind.setdefault(case.kind if case else "final", (case, detail))
                examples = [first_of_kind[k] for k, _ in kinds.most_common(8)]
            for case, detail in examples:
                if case is not None:
                    print(f"      {case.summary}\n        → {detail[:240]}")
    failed = len(failed_cases) + (0 if final_alive else 1)
    passed = total - len(failed_cases)
    print(f"server answers /health/alive at the end: {'yes' if final_alive else 'NO'}")
    print(f"hostile: {passed} passed, {failed} failed")
    sys.exit(1 if failed or aborted else 0)


if __name__ == "__main__":
    main()
