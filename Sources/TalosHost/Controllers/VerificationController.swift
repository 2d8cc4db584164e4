import HTTPTypes
import TalosCore

/// `apiKeys:verify` and `apiKeys:batchVerify` (spec §3.14, §3.15).
struct VerificationController: APIController {
    let verifier: Verifier
    let clock: any WallClock

    static let cacheHeader = HTTPField.Name("Ory-Talos-Cache")!
    static let policyHeader = HTTPField.Name("RateLimit-Policy")!
    static let stateHeader = HTTPField.Name("RateLimit")!

    var routes: [Route] {
        [
            .plain(.post, "/v2alpha1/admin/apiKeys:verify", .admin, verify).requires(.keysVerify),
            .plain(.post, "/v2alpha1/admin/apiKeys:batchVerify", .admin, limit: Route.sixteenMiB, batchVerify)
                .requires(.keysVerify),
        ]
    }

    static func verificationItem(_ body: BodyReader) throws(TalosError) -> VerificationItem {
        let audiences = try body.strings("expected_audiences").value ?? []
        guard audiences.count <= 100 else {
            throw TalosError.validation("expected_audiences", "must contain at most 100 entries")
        }
        guard audiences.allSatisfy({ $0.utf8.count <= 256 }) else {
            throw TalosError.validation("expected_audiences", "each entry must be at most 256 bytes")
        }
        return VerificationItem(credential: try body.string("credential") ?? "", expectedAudiences: audiences)
    }

    func verify(_ request: APIRequest) async throws -> APIReply {
        let item = try Self.verificationItem(try request.json())
        let result = try await verifier.verify(item, context: request.verificationContext)
        var headers = HTTPFields()
        headers[Self.cacheHeader] = result.cache.rawValue
        Self.rateLimitHeaders(result, now: clock.now(), into: &headers)
        return .json(WireFormat.verification(result), headers: headers)
    }

    /// The IETF rate-limit headers as Ory sends them (docs/rate-limits.md), on single verify only: `RateLimit-Policy`
    /// for every key with a policy, enforced or not; when enforced also `RateLimit` (remaining, seconds until the
    /// bucket is full), and `Retry-After` when refused.
    static func rateLimitHeaders(_ result: Verification, now: Timestamp, into headers: inout HTTPFields) {
        if let limit = result.rateLimit {
            headers[policyHeader] = "\"default\";q=\(limit.limit);w=\(limit.windowSeconds)"
            headers[stateHeader] = "\"default\";r=\(limit.remaining);t=\(limit.secondsUntilFull(at: now))"
            if limit.exceeded { headers[.retryAfter] = "\(limit.retryAfterSeconds)" }
        } else if let policy = result.credential?.rateLimitPolicy {
            headers[policyHeader] = "\"default\";q=\(policy.quota);w=\(policy.windowSeconds)"
        }
    }

    func batchVerify(_ request: APIRequest) async throws -> APIReply {
        // The 101st credential ends the parse (spec §15.6): a huge batch is refused without reading it all.
        let body = try request.json(
            cap: (
                JSONItemCap(member: "requests", items: 100),
                TalosError(.invalidArgument, "maximum 100 credentials per batch")
            )
        )
        guard case .value(let value) = body.presence("requests") else {
            throw TalosError(.invalidArgument, "requests must contain at least one item")
        }
        guard case .array(let items) = value else { throw TalosError.malformed("field \"requests\" must be an array") }
        guard !items.isEmpty else { throw TalosError(.invalidArgument, "requests must contain at least one item") }
        var credentials: [VerificationItem] = []
        for item in items {
            switch item {
            case .null: credentials.append(VerificationItem(credential: nil))
            case .object(let object): credentials.append(try Self.verificationItem(BodyReader(object: object)))
            default: throw TalosError.malformed("each item of \"requests\" must be an object")
            }
        }
        let results = try await verifier.verifyBatch(credentials, context: request.verificationContext)
        return .json([
            "results": .array(
                zip(results, credentials).map { WireFormat.batchVerificationItem($0, credential: $1.credential) }
            )
        ])
    }
}
