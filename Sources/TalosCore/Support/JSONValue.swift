/// A JSON document with object members kept in a stable order.
///
/// Objects keep member order: parsed ones the order of the input, built ones the order they were built in,
/// which is how responses reproduce the field order the wire format prescribes.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case int(Int64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The object's members, or `nil` when this is not an object.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The string, or `nil` when this is not a string.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The elements, or `nil` when this is not an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    /// The elements of an array of strings; `nil` for any other value, an array holding a non-string included.
    public var stringArrayValue: [String]? {
        guard let items = arrayValue else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    /// `true` for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The element at `index` of an array; `nil` for other values and out-of-range indexes.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// Looks up a member of an object; `nil` for other values and missing members.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

/// An ordered list of JSON object members with unique keys.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { self.members = [] }

    /// Members in the given order; later duplicates replace earlier values in place. Linear in the member count
    /// (parsed request bodies can hold very many members).
    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        self.members.reserveCapacity(members.count)
        var positions: [String: Int] = [:]
        positions.reserveCapacity(members.count)
        for (key, value) in members {
            if let position = positions[key] {
                self.members[position].value = value
            } else {
                positions[key] = self.members.count
                self.members.append((key, value))
            }
        }
    }

    /// Members in literal order; a repeated key keeps its first position and its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// Number of members.
    public var count: Int { members.count }

    /// `true` when the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The member's value; assigning `nil` removes it, assigning a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Whether the object has a member with that key (even a `null` one).
    public func contains(_ key: String) -> Bool { members.contains(where: { $0.key == key }) }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// Iterates the members in order as `(key, value)` pairs.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    /// Equal when both hold the same members in the same order: member order is significant.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes members in order, consistent with the order-sensitive `==`.
    public func hash(into hasher: inout Hasher) {
        for member in members {
            hasher.combine(member.key)
            hasher.combine(member.value)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral
{
    /// A `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An `.object` with members in literal order (a repeated key keeps its first position and its last value).
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    /// An `.array` of the elements in order.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An `.int`; an integer literal never becomes a `.double`.
    public init(integerLiteral value: Int64) { self = .int(value) }
}
