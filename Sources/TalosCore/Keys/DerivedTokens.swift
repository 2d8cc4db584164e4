/// The claims of a derived token (spec §6.1), common to JWTs and macaroons.
public struct DerivedClaims: Sendable, Hashable {
    /// `jti`: a random UUIDv4 naming this token; the macaroon identifier.
    public var jti: String
    /// `aud`: the recipients the token is bound to; empty = unbound. A bound token verifies only for a caller whose
    /// `expected_audiences` shares one of them (spec §13).
    public var audiences: [String] = []
    /// `sub`: the parent key's id.
    public var subject: String
    /// `iss`: `credentials.issuer` at minting (also a macaroon's location); it must still be current or an active
    /// retired issuer when the token is verified.
    public var issuer: String
    /// `iat`, Unix seconds.
    public var issuedAt: Int64
    /// `nbf`, Unix seconds; before `nbf − clock_skew` the token verifies as SIGNATURE_INVALID.
    public var notBefore: Int64
    /// `exp`, Unix seconds; after `exp + clock_skew` the token verifies as EXPIRED. Never past the parent's expiry.
    public var expires: Int64
    /// `nid`: the tenant the token was minted in; any other tenant sees NOT_FOUND.
    public var nid: String
    /// `akid` and `pid`: the parent key's id, reported as `key_id` when the token verifies.
    public var parentKeyID: String
    /// `tty`: `"derived"` when minted; any other value verifies as INVALID_FORMAT, and `nil` means the claim is absent.
    public var tokenType: String? = "derived"
    /// `oid`: the parent key's actor; omitted from the token when `nil` or empty.
    public var actorID: String?
    /// `scp`: the token's scopes, a subset of the parent's; always emitted.
    public var scopes: [String]
    /// `meta`: the parent key's metadata; `nil` or empty is omitted from a JWT (a macaroon always carries `meta={}`).
    public var meta: JSONObject?
    /// `vis`: `"secret"` or `"public"`, the parent key's visibility.
    public var visibility: String
    /// Empty = no IP restriction; each macaroon `acl` caveat adds one list, all of which must pass.
    public var acls: [[String]] = []
    /// Custom claims (reserved names removed).
    public var custom: JSONObject = [:]

    /// Claims as given; the defaults make an unbound derived token without actor, metadata, IP restriction or custom
    /// claims.
    public init(
        jti: String,
        audiences: [String] = [],
        subject: String,
        issuer: String,
        issuedAt: Int64,
        notBefore: Int64,
        expires: Int64,
        nid: String,
        parentKeyID: String,
        tokenType: String? = "derived",
        actorID: String? = nil,
        scopes: [String],
        meta: JSONObject? = nil,
        visibility: String,
        acls: [[String]] = [],
        custom: JSONObject = [:]
    ) {
        self.jti = jti
        self.audiences = audiences
        self.subject = subject
        self.issuer = issuer
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expires = expires
        self.nid = nid
        self.parentKeyID = parentKeyID
        self.tokenType = tokenType
        self.actorID = actorID
        self.scopes = scopes
        self.meta = meta
        self.visibility = visibility
        self.acls = acls
        self.custom = custom
    }

    /// Claim names a custom claim may not use (spec §3.13 step 5).
    public static let reserved: Set<String> = [
        "jti", "sub", "iss", "aud", "iat", "exp", "nbf", "nid", "akid", "pid", "tty", "oid", "scp", "scope", "meta",
        "vis", "acl",
    ]

    /// The JWT payload, claims in the order of the spec's table.
    var jwtPayload: JSONObject {
        var payload = JSONObject()
        payload["jti"] = .string(jti)
        if !audiences.isEmpty { payload["aud"] = .array(audiences.map(JSONValue.string)) }
        payload["sub"] = .string(subject)
        payload["iss"] = .string(issuer)
        payload["iat"] = .int(issuedAt)
        payload["nbf"] = .int(notBefore)
        payload["exp"] = .int(expires)
        payload["nid"] = .string(nid)
        payload["akid"] = .string(parentKeyID)
        payload["pid"] = .string(parentKeyID)
        if let tokenType { payload["tty"] = .string(tokenType) }
        if let actorID, !actorID.isEmpty { payload["oid"] = .string(actorID) }
        payload["scp"] = .array(scopes.map(JSONValue.string))
        if let meta, !meta.isEmpty { payload["meta"] = .object(meta) }
        payload["vis"] = .string(visibility)
        if let acl = acls.first { payload["acl"] = .array(acl.map(JSONValue.string)) }
        // Appended in one linear pass: the custom claims hold no reserved name, and there can be very many.
        return JSONObject((payload.members + custom.members).map { ($0.key, $0.value) })
    }

    /// The names of the minted caveat block in their order (spec §15.1); `clm` closes the block.
    static let mintedCaveatNames = [
        "iss", "sub", "akid", "pid", "nid", "tty", "oid", "vis", "iat", "nbf", "exp", "scp", "acl", "aud", "meta",
        "clm",
    ]

    /// Minted caveats a token may lack.
    static let optionalCaveatNames: Set<String> = ["tty", "oid", "acl", "aud"]

    /// First-party caveats of a macaroon, in the order of spec §15.1: the claims, then `meta` and `clm` (the custom
    /// claims as one object, names sorted), both always present.
    var macaroonCaveats: [String] {
        var caveats: [(String, JSONValue)] = [
            ("iss", .string(issuer)), ("sub", .string(subject)), ("akid", .string(parentKeyID)),
            ("pid", .string(parentKeyID)), ("nid", .string(nid)),
        ]
        if let tokenType { caveats.append(("tty", .string(tokenType))) }
        if let actorID, !actorID.isEmpty { caveats.append(("oid", .string(actorID))) }
        caveats += [
            ("vis", .string(visibility)), ("iat", .int(issuedAt)), ("nbf", .int(notBefore)), ("exp", .int(expires)),
            ("scp", .array(scopes.map(JSONValue.string))),
        ]
        if let acl = acls.first { caveats.append(("acl", .array(acl.map(JSONValue.string)))) }
        if !audiences.isEmpty { caveats.append(("aud", .array(audiences.map(JSONValue.string)))) }
        caveats.append(("meta", .object(meta ?? [:])))
        caveats.append(
            ("clm", .object(JSONObject(custom.members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
        )
        return caveats.map { "\($0.0)=\($0.1.compactString)" }
    }

    /// Reads claims from a JWT payload or merged macaroon caveats; `nil` when a required claim is missing or mistyped.
    static func from(_ claims: JSONObject, acls: [[String]]) -> DerivedClaims? {
        func int(_ name: String) -> Int64? {
            switch claims[name] {
            case .int(let value)?: value
            case .double(let value)? where value == value.rounded(): Int64(exactly: value)
            default: nil
            }
        }
        guard let jti = claims["jti"]?.stringValue, let subject = claims["sub"]?.stringValue,
            let issuer = claims["iss"]?.stringValue, let expires = int("exp"), let nid = claims["nid"]?.stringValue,
            let scopes = claims["scp"]?.stringArrayValue
        else { return nil }
        var audiences: [String] = []
        if let aud = claims["aud"] {
            if let single = aud.stringValue {
                audiences = [single]
            } else if let list = aud.stringArrayValue {
                audiences = list
            } else {
                return nil
            }
        }
        if claims["tty"] != nil, claims["tty"]?.stringValue == nil { return nil }
        let custom = JSONObject(claims.members.filter { !reserved.contains($0.key) }.map { ($0.key, $0.value) })
        return DerivedClaims(
            jti: jti,
            audiences: audiences,
            subject: subject,
            issuer: issuer,
            issuedAt: int("iat") ?? 0,
            notBefore: int("nbf") ?? 0,
            expires: expires,
            nid: nid,
            parentKeyID: claims["akid"]?.stringValue ?? subject,
            tokenType: claims["tty"]?.stringValue,
            actorID: claims["oid"]?.stringValue,
            scopes: scopes,
            meta: claims["meta"]?.objectValue,
            visibility: claims["vis"]?.stringValue ?? "secret",
            acls: acls,
            custom: custom
        )
    }
}

extension DerivedClaims {
    /// Year 9999: no valid token carries instants beyond this.
    static let maxTokenSeconds: Int64 = 253_402_300_799

    /// The checks of spec §6.3 that follow a valid signature and issuer, in order: instants in range, `exp` and
    /// `nbf` with leeway `clockSkew`, `tty`, `nid`, every `acl` against `clientIP`, and `aud` against
    /// `expectedAudiences` (spec §13). Talos's verifier and the consumer-side middleware both apply them.
    /// - Returns: why the token is not acceptable, or `nil` when it is.
    public func failure(
        at now: Timestamp,
        clockSkew: Duration,
        nid: String,
        clientIP: IPAddress?,
        expectedAudiences: [String]
    ) -> VerificationErrorCode? {
        let skew = clockSkew.components.seconds
        // Claims come from the token: compare without arithmetic that could overflow on extreme values.
        let range = -Self.maxTokenSeconds...Self.maxTokenSeconds
        guard range.contains(expires), range.contains(notBefore) else { return .signatureInvalid }
        if now.seconds > expires + skew { return .expired }
        if now.seconds < notBefore - skew { return .signatureInvalid }
        if let tokenType, tokenType != "derived" { return .invalidFormat }
        if self.nid != nid { return .notFound }
        for acl in acls where !CIDR.anyContains(acl, clientIP) { return .ipNotAllowed }
        if audiences.isEmpty != expectedAudiences.isEmpty
            || (!audiences.isEmpty && !audiences.contains(where: expectedAudiences.contains))
        {
            return .audienceMismatch
        }
        return nil
    }

    /// The metadata a verified token reports: its custom claims overlaid by `meta` (spec §6.3).
    public var verifiedMetadata: JSONObject {
        var metadata = custom
        for (name, value) in meta ?? [:] { metadata[name] = value }
        return metadata
    }
}

/// Compact JWS tokens signed with EdDSA or RS256 (spec §6.1, §6.3).
public enum JWTCodec {
    /// `header.payload.signature`, base64url without padding.
    public static func sign(_ claims: DerivedClaims, with entry: SigningKeyring.Entry) throws -> String {
        let header: JSONValue = ["alg": .string(entry.family.rawValue), "kid": .string(entry.kid), "typ": "JWT"]
        let signingInput =
            Base64URL.encode(header.serialized()) + "."
            + Base64URL.encode(JSONValue.object(claims.jwtPayload).serialized())
        guard let signer = entry.signer else { throw TalosError(.signingKeyUnavailable, "get signing key") }
        return signingInput + "." + Base64URL.encode(try signer.sign(Array(signingInput.utf8)))
    }

    /// The token's claims when its structure, algorithm, key id and signature are valid; `nil` otherwise.
    public static func verify(_ token: String, keyring: SigningKeyring) -> DerivedClaims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            let payloadBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2]),
            case .object(let header)? = try? JSONValue.parse(headerBytes),
            let alg = header["alg"]?.stringValue, let kid = header["kid"]?.stringValue,
            let entry = keyring.entry(kid: kid), alg == entry.family.rawValue,
            entry.verifier.verify(
                signature: signature,
                message: Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
            ),
            case .object(let payload)? = try? JSONValue.parse(payloadBytes)
        else { return nil }
        let acl = payload["acl"]?.arrayValue.map { $0.compactMap(\.stringValue) }
        return DerivedClaims.from(payload, acls: acl.map { [$0] } ?? [])
    }
}

/// Macaroons in the libmacaroons V2 binary format with first-party caveats (spec §6.2, §6.3).
public enum MacaroonCodec {
    private enum Field: UInt8 {
        case eos = 0
        case location = 1
        case identifier = 2
        case verificationID = 4
        case signature = 6
    }

    /// `k = HMAC-SHA256(key = "macaroons-key-generator", msg = root key)`.
    static func derivedKey(rootKey: [UInt8], crypto: any CryptoBackend) -> [UInt8] {
        crypto.hmacSHA256(key: Array("macaroons-key-generator".utf8), message: rootKey)
    }

    /// The chained signature over the identifier and caveats.
    static func signature(rootKey: [UInt8], identifier: String, caveats: [String], crypto: any CryptoBackend) -> [UInt8]
    {
        var signature = crypto.hmacSHA256(
            key: derivedKey(rootKey: rootKey, crypto: crypto),
            message: Array(identifier.utf8)
        )
        for caveat in caveats { signature = crypto.hmacSHA256(key: signature, message: Array(caveat.utf8)) }
        return signature
    }

    /// The V2 binary encoding of a macaroon.
    static func encode(location: String, identifier: String, caveats: [String], signature: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x02]
        func field(_ type: Field, _ data: [UInt8]) {
            out.append(type.rawValue)
            var length = data.count
            while length >= 0x80 {
                out.append(UInt8(length & 0x7F) | 0x80)
                length >>= 7
            }
            out.append(UInt8(length))
            out += data
        }
        if !location.isEmpty { field(.location, Array(location.utf8)) }
        field(.identifier, Array(identifier.utf8))
        out.append(Field.eos.rawValue)
        for caveat in caveats {
            field(.identifier, Array(caveat.utf8))
            out.append(Field.eos.rawValue)
        }
        out.append(Field.eos.rawValue)
        field(.signature, signature)
        return out
    }

    /// Mints `<prefix>_v1_<base64url(V2)>` under `rootKey` with the claims as caveats.
    public static func mint(
        _ claims: DerivedClaims,
        location: String,
        prefix: String,
        rootKey: [UInt8],
        crypto: any CryptoBackend
    ) -> String {
        let caveats = claims.macaroonCaveats
        let signature = signature(rootKey: rootKey, identifier: claims.jti, caveats: caveats, crypto: crypto)
        return "\(prefix)_v1_"
            + Base64URL.encode(
                encode(location: location, identifier: claims.jti, caveats: caveats, signature: signature)
            )
    }

    /// The chained signature, exposed for the spec-vector tests.
    public static func signatureForTesting(
        rootKey: [UInt8],
        identifier: String,
        caveats: [String],
        crypto: any CryptoBackend
    )
        -> [UInt8]
    { signature(rootKey: rootKey, identifier: identifier, caveats: caveats, crypto: crypto) }

    /// The V2 encoding, exposed for the spec-vector tests.
    public static func encodeForTesting(
        location: String,
        identifier: String,
        caveats: [String],
        signature: [UInt8]
    ) -> [UInt8] {
        encode(location: location, identifier: identifier, caveats: caveats, signature: signature)
    }

    struct Decoded {
        let location: String
        let identifier: String
        let caveats: [String]
        let signature: [UInt8]
    }

    /// Parses the V2 binary form; `nil` on any malformation or a third-party caveat.
    static func decode(_ bytes: [UInt8]) -> Decoded? {
        var index = 0
        func readField() -> (UInt8, [UInt8])? {
            guard index < bytes.count else { return nil }
            let type = bytes[index]
            index += 1
            if type == Field.eos.rawValue { return (type, []) }
            var length = 0
            var shift = 0
            while true {
                guard index < bytes.count, shift < 28 else { return nil }
                let byte = bytes[index]
                index += 1
                length |= Int(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            guard length <= bytes.count - index else { return nil }
            defer { index += length }
            return (type, Array(bytes[index..<index + length]))
        }
        guard bytes.first == 0x02 else { return nil }
        index = 1
        var location = ""
        guard var field = readField() else { return nil }
        if field.0 == Field.location.rawValue {
            location = String(decoding: field.1, as: UTF8.self)
            guard let next = readField() else { return nil }
            field = next
        }
        guard field.0 == Field.identifier.rawValue, readField()?.0 == Field.eos.rawValue else { return nil }
        let identifier = String(decoding: field.1, as: UTF8.self)
        var caveats: [String] = []
        while true {
            guard let next = readField() else { return nil }
            if next.0 == Field.eos.rawValue { break }
            guard next.0 == Field.identifier.rawValue, let text = String(validating: next.1, as: UTF8.self),
                let end = readField(), end.0 == Field.eos.rawValue
            else { return nil }  // a verification id (third-party caveat) or anything unexpected
            caveats.append(text)
        }
        guard let signatureField = readField(), signatureField.0 == Field.signature.rawValue,
            signatureField.1.count == 32,
            index == bytes.count
        else { return nil }
        return Decoded(location: location, identifier: identifier, caveats: caveats, signature: signatureField.1)
    }

    /// The token's claims when it is a well-formed macaroon signed under one of `rootKeys` whose caveats are
    /// acceptable; `nil` otherwise (spec §15.1). The caveats up to the first `clm` must be the minted names in their
    /// order (optional ones may be missing). A holder may append only narrowing caveats: `exp` (smallest wins),
    /// `nbf` (largest wins), `scp` and `aud` (intersections; `aud` only when minted) and `acl` (every one must pass).
    public static func verify(
        _ token: String,
        prefixes: [String],
        rootKeys: [[UInt8]],
        crypto: any CryptoBackend
    )
        -> (claims: DerivedClaims, location: String)?
    {
        guard let prefix = prefixes.first(where: { token.hasPrefix("\($0)_v1_") }),
            let bytes = Base64URL.decode(token.dropFirst(prefix.count + 4)), let decoded = decode(bytes)
        else { return nil }
        let valid = rootKeys.contains { rootKey in
            crypto.constantTimeEquals(
                signature(rootKey: rootKey, identifier: decoded.identifier, caveats: decoded.caveats, crypto: crypto),
                decoded.signature
            )
        }
        guard valid else { return nil }
        var claims = JSONObject()
        var acls: [[String]] = []
        var position = 0  // index into the minted names while inside the minted block
        var blockClosed = false
        for caveat in decoded.caveats {
            guard let separator = caveat.firstIndex(of: "="),
                let value = try? JSONValue.parse(String(caveat[caveat.index(after: separator)...]))
            else { return nil }
            let name = String(caveat[..<separator])
            if !blockClosed {
                guard let offset = DerivedClaims.mintedCaveatNames[position...].firstIndex(of: name),
                    DerivedClaims.mintedCaveatNames[position..<offset].allSatisfy(
                        DerivedClaims.optionalCaveatNames.contains
                    )
                else { return nil }
                position = offset + 1
                blockClosed = name == "clm"
                if name == "acl" {
                    guard let cidrs = value.stringArrayValue else { return nil }
                    acls.append(cidrs)
                }
                claims[name] = value
                continue
            }
            switch (name, claims[name], value) {
            case ("exp", .int(let old)?, .int(let new)): claims[name] = .int(min(old, new))
            case ("nbf", .int(let old)?, .int(let new)): claims[name] = .int(max(old, new))
            case ("scp", .array(let old)?, .array(let new)), ("aud", .array(let old)?, .array(let new)):
                guard value.stringArrayValue != nil else { return nil }
                claims[name] = .array(old.filter { new.contains($0) })
            case ("acl", _, _):
                guard let cidrs = value.stringArrayValue else { return nil }
                acls.append(cidrs)
            default: return nil
            }
        }
        guard blockClosed, let meta = claims["meta"]?.objectValue, let custom = claims["clm"]?.objectValue else {
            return nil
        }
        claims["clm"] = nil
        claims["meta"] = meta.isEmpty ? nil : .object(meta)
        claims["jti"] = .string(decoded.identifier)
        guard var parsed = DerivedClaims.from(claims, acls: acls) else { return nil }
        parsed.custom = custom
        return (parsed, decoded.location)
    }
}
