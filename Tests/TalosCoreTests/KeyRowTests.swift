import TalosCore
import Testing

/// Spec §15.7: a stored row decodes exactly or fails; it never falls back to defaults.
@Suite struct KeyRowTests {
    private let key = APIKey(
        kind: .issued,
        nid: "00000000-0000-0000-0000-000000000000",
        keyID: "792b4c1a-1a2d-430b-b733-c789a2b7b1fe",
        name: "n",
        actorID: "a",
        scopes: ["read"],
        createTime: Timestamp(seconds: 1_780_334_005),
        updateTime: Timestamp(seconds: 1_780_334_005),
        expireTime: Timestamp(seconds: 1_780_337_605),
        metadata: ["team": "backend"],
        rateLimitPolicy: RateLimitPolicy(quota: 10, windowSeconds: 60),
        allowedCIDRs: ["10.0.0.0/8"],
        revocationReason: .superseded,
        visibility: .public,
        requestID: "r1"
    )

    @Test func roundTrips() throws {
        #expect(try KeyRow(key).decode() == key)
    }

    @Test(arguments: [
        "kind", "scopes", "scopes items", "metadata", "metadata array", "status", "status expired", "visibility",
        "create_time", "expire_time", "revocation_reason", "policy half", "cidrs",
    ])
    func corruptColumnsFailClosed(column: String) {
        var row = KeyRow(key)
        switch column {
        case "kind": row.kind = "other"
        case "scopes": row.scopes = "[\"read\""
        case "scopes items": row.scopes = "[1]"
        case "metadata": row.metadata = "{not json"
        case "metadata array": row.metadata = "[]"
        case "status": row.status = 9
        case "status expired": row.status = 3
        case "visibility": row.visibility = 0
        case "create_time": row.createTime = -1
        case "expire_time": row.expireTime = .max
        case "revocation_reason": row.revocationReason = 77
        case "policy half": row.rateLimitWindow = nil
        default: row.allowedCIDRs = "{}"
        }
        #expect(throws: StorageError.corrupt("")) { try row.decode() }
    }
}
