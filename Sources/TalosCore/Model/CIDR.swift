/// An IPv4 or IPv6 address as 4 or 16 bytes; IPv4-mapped IPv6 addresses are reduced to IPv4 (spec §5.6).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4 (including IPv4-mapped IPv6), 16 for IPv6, in network order.
    public let bytes: [UInt8]

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (with `::` and an embedded IPv4 tail); `nil` otherwise.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        if let v4 = Self.parseV4(text) {
            bytes = v4
        } else if var v6 = Self.parseV6(text) {
            if v6[0..<10].allSatisfy({ $0 == 0 }), v6[10] == 0xFF, v6[11] == 0xFF { v6 = Array(v6[12...]) }
            bytes = v6
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    private static func parseV4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var output: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part.count == 1 || part.first != "0", let value = UInt8(part)
            else { return nil }
            output.append(value)
        }
        return output
    }

    private static func splitOnDoubleColon(_ text: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(text)
        while let range = rest.firstRange(of: "::") {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    private static func parseV6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), !text.contains(":::") else { return nil }
        let halves = Self.splitOnDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var output: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowV4Tail, index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseV4(String(piece)) else { return nil }
                    output += v4
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    output += [UInt8(value >> 8), UInt8(value & 0xFF)]
                }
            }
            return output
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowV4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowV4Tail: false), let tail = groups(halves[1], allowV4Tail: true),
            head.count + tail.count <= 14
        else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// Dotted IPv4, or RFC 5952 canonical IPv6 (lowercase, longest zero run compressed).
    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var words: [UInt16] = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // RFC 5952: compress the longest run (≥ 2) of zero words.
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            if words[index] == 0 {
                var end = index
                while end < 8, words[end] == 0 { end += 1 }
                if end - index > bestLength, end - index >= 2 { (bestStart, bestLength) = (index, end - index) }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard bestStart >= 0 else { return hex(words[...]) }
        let text = hex(words[..<bestStart]) + "::" + hex(words[(bestStart + bestLength)...])
        words.removeAll()
        return text
    }
}

/// A network in CIDR notation, stored in network form (`10.1.2.3/8` → `10.0.0.0/8`).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address: the parsed address with every bit after `prefixLength` cleared.
    public let network: IPAddress
    /// Leading bits that must match: 0–32 for IPv4, 0–128 for IPv6.
    public let prefixLength: Int

    /// Parses `address/prefix` or a bare address (a /32 or /128); `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        let bits = address.bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                var parsed = Int(parts[1])
            else { return nil }
            // An IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/104) addresses the IPv4 space.
            if address.bytes.count == 4, parts[0].contains(":") { parsed -= 96 }
            guard (0...bits).contains(parsed) else { return nil }
            length = parsed
        }
        self.prefixLength = length
        self.network = IPAddress(bytes: Self.mask(address.bytes, length))
    }

    private static func mask(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = max(0, min(8, length - index * 8))
            return keep == 8 ? byte : byte & ~(0xFF >> UInt8(keep))
        }
    }

    /// Whether `address` is inside one of `cidrs` (textual); an empty list allows every address, even an unknown one.
    public static func anyContains(_ cidrs: [String], _ address: IPAddress?) -> Bool {
        guard !cidrs.isEmpty else { return true }
        guard let address else { return false }
        return cidrs.contains { CIDR($0)?.contains(address) ?? false }
    }

    /// Whether `address` is inside one of `networks`; an empty list allows every address, even an unknown one.
    public static func anyContains(_ networks: [CIDR], _ address: IPAddress?) -> Bool {
        guard !networks.isEmpty else { return true }
        guard let address else { return false }
        return networks.contains { $0.contains(address) }
    }

    /// Whether `address` is inside this network (families must match).
    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && Self.mask(address.bytes, prefixLength) == network.bytes
    }

    /// `network/prefixLength` in canonical form; the normalized text stored in `allowed_cidrs`.
    public var description: String { "\(network)/\(prefixLength)" }
}
