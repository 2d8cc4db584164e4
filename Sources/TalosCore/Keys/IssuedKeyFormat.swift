/// The parts of an issued key `{prefix}_v1_{identifier}_{checksum}` (spec §4.1–4.2).
public struct IssuedKeyParts: Sendable, Hashable {
    /// The key prefix, 1–16 of `[a-zA-Z0-9_]` (underscores allowed); not yet checked against the configured ones.
    public let prefix: Substring
    /// Non-empty Base58 text; not necessarily decodable (see `IssuedKeyFormat.decodeIdentifier`).
    public let identifier: Substring
    /// Non-empty Base58 text of the HMAC; not yet verified. Part of the secret: never log it.
    public let checksum: Substring

    /// Everything the checksum authenticates: `prefix_v1_identifier_`.
    public var signedPart: String { "\(prefix)_v1_\(identifier)_" }
}

/// A decoded identifier: creation time and key id.
public struct IssuedKeyIdentity: Sendable, Hashable {
    /// Unix seconds when the key was issued; verification rejects a time later than now + `clock_skew` or older than
    /// `max_ttl` + `clock_skew` (spec §5.2).
    public let createdAtSeconds: Int64
    /// Lowercase UUID.
    public let keyID: String
}

/// Construction and parsing of issued keys (spec §4.1–4.3).
public enum IssuedKeyFormat {
    /// Whether a prefix matches `^[a-zA-Z0-9_]{1,16}$`.
    public static func isValidPrefix(_ prefix: some StringProtocol) -> Bool {
        (1...16).contains(prefix.utf8.count)
            && prefix.utf8.allSatisfy {
                $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A)
                    || ($0 >= 0x61 && $0 <= 0x7A)
            }
    }

    /// `Base58(ASCII("<unix seconds>:<uuid>"))`.
    public static func identifier(createdAtSeconds: Int64, keyID: String) -> String {
        Base58.encode(Array("\(createdAtSeconds):\(keyID)".utf8))
    }

    /// The full key for the given parts and checksum key.
    public static func makeKey(prefix: String, createdAtSeconds: Int64, keyID: String, hmac: any HMACKey) -> String {
        let signed = "\(prefix)_v1_\(identifier(createdAtSeconds: createdAtSeconds, keyID: keyID))_"
        return signed + Base58.encode(hmac.authenticate(Array(signed.utf8)))
    }

    /// Splits a credential from the right as §4.2 prescribes; `nil` when it is not v1-shaped.
    public static func parse(_ credential: String) -> IssuedKeyParts? {
        // Byte-wise on the UTF-8 view: the separators are ASCII, and Character-wise scanning (grapheme breaking)
        // showed up in the verify profile.
        let text = Substring(credential)
        let underscore = UInt8(ascii: "_")
        guard let lastSeparator = text.utf8.lastIndex(of: underscore) else { return nil }
        let checksum = text[text.utf8.index(after: lastSeparator)...]
        let rest = text[..<lastSeparator]
        guard let secondSeparator = rest.utf8.lastIndex(of: underscore) else { return nil }
        let identifier = rest[rest.utf8.index(after: secondSeparator)...]
        let head = rest[..<secondSeparator]
        guard head.utf8.count >= 3, head.utf8.suffix(3).elementsEqual("_v1".utf8) else { return nil }
        let prefix = head[..<head.utf8.index(head.utf8.endIndex, offsetBy: -3)]
        guard isValidPrefix(prefix), Base58.isValid(identifier), Base58.isValid(checksum) else { return nil }
        return IssuedKeyParts(prefix: prefix, identifier: identifier, checksum: checksum)
    }

    /// Decodes an identifier to `^[0-9]{1,19}:<uuid>$`; `nil` when it does not decode to that.
    public static func decodeIdentifier(_ identifier: some StringProtocol) -> IssuedKeyIdentity? {
        guard identifier.utf8.count <= 90, let bytes = Base58.decode(identifier),
            let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        let digits = bytes[..<colon]
        guard (1...19).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let seconds = Int64(String(decoding: digits, as: UTF8.self)),
            let keyID = UUIDText.normalized(String(decoding: bytes[(colon + 1)...], as: UTF8.self))
        else { return nil }
        return IssuedKeyIdentity(createdAtSeconds: seconds, keyID: keyID)
    }
}

/// How a credential is handled (spec §4.4, first match wins).
public enum CredentialRoute: Sendable, Hashable {
    /// Shaped like a compact JWS (`eyJ…` with three base64url segments); verified statelessly.
    case derivedJWT
    /// Starts with `<macaroon prefix>_v1_` for a current or retired macaroon prefix; verified statelessly.
    case derivedMacaroon
    /// A v1-shaped key whose identifier decodes; checksum, timestamp and prefix are still to be checked.
    case issued(IssuedKeyParts, IssuedKeyIdentity)
    /// Anything else, including v1-shaped strings whose identifier does not decode; looked up by hash.
    case imported

    /// Routes a credential. `macaroonPrefixes` are the current and retired macaroon prefixes.
    public static func route(_ credential: String, macaroonPrefixes: [String]) -> CredentialRoute {
        if isJWTShaped(credential) { return .derivedJWT }
        for prefix in macaroonPrefixes where credential.hasPrefix("\(prefix)_v1_") { return .derivedMacaroon }
        if let parts = IssuedKeyFormat.parse(credential),
            let identity = IssuedKeyFormat.decodeIdentifier(parts.identifier)
        {
            return .issued(parts, identity)
        }
        return .imported
    }

    /// `^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`: what Talos routes as a derived JWT (spec §5.2).
    public static func isJWTShaped(_ credential: String) -> Bool {
        guard credential.hasPrefix("eyJ") else { return false }
        let segments = credential.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3 else { return false }
        return segments.allSatisfy { segment in
            !segment.isEmpty
                && segment.allSatisfy {
                    $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39)
                        || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                }
        }
    }
}
