/// A parsed list filter (spec §7): at most one `actor_id` and one `status` term joined by ` AND `.
public struct KeyFilter: Sendable, Hashable {
    /// Only keys whose `actor_id` equals this exactly (case-sensitive); `nil` = any actor.
    public var actorID: String?
    /// Only keys reported with this status at the query instant: `.active`, `.revoked` or `.expired`; `nil` = any.
    public var status: KeyStatus?

    /// A filter on `actorID` and `status`; the default matches every key.
    public init(actorID: String? = nil, status: KeyStatus? = nil) {
        self.actorID = actorID
        self.status = status
    }

    /// Parses the filter grammar. - Throws: 400 `INVALID_FILTER` with `invalid filter: <detail>`.
    public static func parse(_ text: String) throws(TalosError) -> KeyFilter {
        func fail(_ detail: String) -> TalosError { TalosError(.invalidFilter, "invalid filter: \(detail)") }
        guard text.utf8.count <= 1024 else { throw fail("filter must be at most 1024 characters") }
        var filter = KeyFilter()
        var scanner = FilterScanner(text)
        scanner.skipSpaces()
        if scanner.atEnd { return filter }
        while true {
            let field = scanner.identifier()
            guard !field.isEmpty else { throw fail("unsupported syntax") }
            scanner.skipSpaces()
            guard scanner.consume("=") else {
                if ["actor_id", "status"].contains(field) { throw fail("unsupported syntax") }
                throw fail("unsupported field \"\(field)\"")
            }
            scanner.skipSpaces()
            switch field {
            case "actor_id":
                guard filter.actorID == nil else { throw fail("duplicated field \"actor_id\"") }
                guard let value = scanner.quotedString() else {
                    throw fail("actor_id value must be a double-quoted string")
                }
                guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw fail("actor_id must not contain control characters")
                }
                filter.actorID = value
            case "status":
                guard filter.status == nil else { throw fail("duplicated field \"status\"") }
                let name = scanner.identifier()
                guard let status = KeyStatus(wireName: name), status != .unspecified else {
                    throw fail("unknown status \"\(name)\"")
                }
                filter.status = status
            default:
                throw fail("unsupported field \"\(field)\"")
            }
            let hadSpace = scanner.skipSpaces()
            if scanner.atEnd { return filter }
            guard hadSpace, scanner.consume("AND"), scanner.skipSpaces() else { throw fail("unsupported syntax") }
        }
    }
}

private struct FilterScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { index >= bytes.count }

    @discardableResult
    mutating func skipSpaces() -> Bool {
        let start = index
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        return index > start
    }

    mutating func consume(_ literal: String) -> Bool {
        let literal = Array(literal.utf8)
        guard bytes.count - index >= literal.count, Array(bytes[index..<index + literal.count]) == literal else {
            return false
        }
        index += literal.count
        return true
    }

    mutating func identifier() -> String {
        let start = index
        while index < bytes.count,
            bytes[index] == UInt8(ascii: "_") || (bytes[index] >= 0x30 && bytes[index] <= 0x39)
                || (bytes[index] >= 0x41 && bytes[index] <= 0x5A) || (bytes[index] >= 0x61 && bytes[index] <= 0x7A)
        {
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func quotedString() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var output: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: output, as: UTF8.self) }
            if byte == UInt8(ascii: "\\") {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\")
                else {
                    return nil
                }
                output.append(bytes[index])
                index += 1
            } else {
                output.append(byte)
            }
        }
        return nil
    }
}
