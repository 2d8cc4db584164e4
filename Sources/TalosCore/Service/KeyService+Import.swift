import Logging

extension KeyService {
    static let duplicateImport = TalosError(.apiKeyAlreadyExists, "key already imported (duplicate detected)")

    /// Validates an import and computes its key id (spec §3.7, §4.4, §4.5, §14.8).
    func prepareImport(
        _ request: ImportKeyRequest,
        nid: String,
        settings: CredentialSettings,
        now: Timestamp
    )
        throws(TalosError) -> APIKey
    {
        guard let rawKey = request.rawKey, !rawKey.isEmpty else { throw .validation("raw_key", "value is required") }
        guard rawKey.utf8.count <= 8192 else { throw .validation("raw_key", "value length must be at most 8192 bytes") }
        guard !rawKey.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            throw .validation("raw_key", "value must not contain whitespace or control characters")
        }
        let key = try Self.newKey(
            .imported,
            keyID: authenticator.importedKeyID(rawKey, nid: nid),
            nid: nid,
            attributes: request.attributes,
            ttl: request.ttl,
            requestID: request.requestID,
            settings: settings,
            now: now
        )
        switch CredentialRoute.route(rawKey, macaroonPrefixes: settings.macaroonPrefixes) {
        case .issued:
            throw TalosError(.importFormatConflict, "cannot import key: format conflicts with issued api key pattern")
        case .derivedJWT, .derivedMacaroon:
            throw TalosError(.importFormatConflict, "cannot import key: format conflicts with derived token pattern")
        case .imported:
            return key
        }
    }

    /// Imports one key (spec §3.7): validate → route → idempotency → quota → insert.
    /// - Returns: the stored key; an idempotent replay returns the existing one.
    public func importKey(_ request: ImportKeyRequest, nid: String) async throws -> APIKey {
        do {
            return try await importKeyUnaudited(request, nid: nid)
        } catch let error as TalosError {
            // The reason only: never the raw key.
            logger.audit("imported_api_key.import_failed", ["reason": "\(error.reason.name)"])
            throw error
        }
    }

    private func importKeyUnaudited(_ request: ImportKeyRequest, nid: String) async throws -> APIKey {
        let settings = settings.current(nid)
        let now = clock.now()
        let key = try prepareImport(request, nid: nid, settings: settings, now: now)
        if let requestID = key.requestID,
            let existing = try await withStorage({
                try await storage.fetch(kind: .imported, nid: nid, requestID: requestID)
            })
        {
            return existing
        }
        try await enforceQuota(nid: nid, settings: settings, now: now)
        let outcome = try await withStorage {
            do {
                return try await storage.insert(key)
            } catch let error as StorageError where error.isDuplicate {
                throw Self.duplicateImport
            }
        }
        switch outcome {
        case .created(let stored):
            TalosMetrics.keysCreated(.imported)
            logger.audit("imported_api_key.created", ["key_id": "\(stored.keyID)"])
            return stored
        case .replayed(let existing):
            return existing
        }
    }

    /// Imports up to 1000 keys (spec §3.8); each item fails on its own. Survivors are inserted in one transaction.
    /// - Throws: 400 for an empty or oversized batch; the dominant per-item error when every item failed.
    public func batchImport(_ requests: [BatchImportInput], nid: String) async throws -> [BatchImportItem] {
        guard !requests.isEmpty else { throw TalosError(.invalidArgument, "keys must contain at least one item") }
        guard requests.count <= 1000 else { throw TalosError(.invalidArgument, "maximum 1000 keys per batch") }
        let settings = settings.current(nid)
        let now = clock.now()
        var results = [BatchImportItem?](repeating: nil, count: requests.count)
        var survivors: [(index: Int, key: APIKey)] = []
        var firstIndex: [String: Int] = [:]
        for (index, input) in requests.enumerated() {
            var request: ImportKeyRequest
            switch input {
            case .missing:
                results[index] = .failed(.invalidArgument, "batch item is required")
                continue
            case .unreadable(let message):
                results[index] = .failed(.invalidArgument, message)
                continue
            case .request(let readable):
                request = readable
            }
            request.requestID = nil
            do {
                let key = try prepareImport(request, nid: nid, settings: settings, now: now)
                if let first = firstIndex[key.keyID] {
                    results[index] = .failed(
                        .alreadyExists,
                        "key already imported (duplicate detected at index \(first))"
                    )
                    continue
                }
                firstIndex[key.keyID] = index
                survivors.append((index, key))
            } catch {
                results[index] = .failed(
                    error.reason == .importFormatConflict ? .failedPrecondition : .invalidArgument,
                    error.message
                )
            }
        }
        if let max = settings.quotaMaxKeys, max > 0, !survivors.isEmpty {
            let count = try await withStorage { try await storage.countActive(nid: nid, at: now) }
            let headroom = Swift.max(0, Int(max) - count)
            for survivor in survivors.dropFirst(headroom) {
                results[survivor.index] = .failed(
                    .resourceExhausted,
                    "the API key quota for this plan permits up to \(max) active API keys"
                )
            }
            survivors = Array(survivors.prefix(headroom))
        }
        let inserted = try await withStorage { try await storage.insertSkippingExisting(survivors.map(\.key)) }
        for survivor in survivors {
            results[survivor.index] =
                inserted.contains(survivor.key.keyID)
                ? .imported(survivor.key) : .failed(.alreadyExists, "key already imported (duplicate detected)")
        }
        let final = results.map { $0 ?? .failed(.internal, "An internal server error occurred.") }
        let failures = final.compactMap { if case .failed(let code, _) = $0 { code } else { nil } }
        TalosMetrics.batchImport(
            size: final.count,
            successes: final.count - failures.count,
            failures: Dictionary(failures.map { ($0.rawValue, 1) }, uniquingKeysWith: +)
        )
        if !inserted.isEmpty { TalosMetrics.keysCreated(.imported, count: inserted.count) }
        if !failures.isEmpty {
            logger.audit("imported_api_key.import_failed", ["count": "\(failures.count)"])
        }
        if failures.count == final.count { throw Self.batchFailure(failures) }
        logger.audit("imported_api_key.batch_created", ["count": "\(inserted.count)"])
        return final
    }

    /// The error of a batch whose every item failed: the most frequent code, ties broken in the spec's order.
    static func batchFailure(_ codes: [BatchImportErrorCode]) -> TalosError {
        let order: [BatchImportErrorCode] = [
            .internal, .alreadyExists, .invalidArgument, .failedPrecondition, .resourceExhausted,
        ]
        let dominant =
            order.max { lhs, rhs in
                let (l, r) = (codes.filter { $0 == lhs }.count, codes.filter { $0 == rhs }.count)
                return l != r ? l < r : order.firstIndex(of: lhs)! > order.firstIndex(of: rhs)!
            } ?? .internal
        switch dominant {
        case .alreadyExists: return TalosError(.apiKeyAlreadyExists, "all keys in batch already exist")
        case .invalidArgument: return TalosError(.invalidArgument, "all keys in batch failed validation")
        case .failedPrecondition:
            return TalosError(.importFormatConflict, "all keys in batch failed precondition checks")
        case .resourceExhausted: return TalosError(.quotaExceeded, "all keys in batch exceeded the tenant quota")
        case .internal: return TalosError(.internal, "all keys in batch import failed")
        }
    }

    /// Hard-deletes an imported key in any status (spec §3.12).
    public func deleteImported(keyID: String, nid: String) async throws {
        let keyID = try Self.normalizedID(keyID, kind: .imported)
        guard try await withStorage({ try await storage.delete(kind: .imported, nid: nid, keyID: keyID) }) else {
            throw Self.notFound(kind: .imported, keyID: keyID)
        }
        keyChanged(nid: nid, keyID: keyID)
        logger.audit("imported_api_key.deleted", ["key_id": "\(keyID)"])
    }
}
