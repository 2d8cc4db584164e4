import TalosCore

/// Typed reads from a request body that turn wrong types into 400 `MALFORMED_REQUEST`.
struct BodyReader {
    let object: JSONObject

    init(_ value: JSONValue) throws(TalosError) {
        guard case .object(let object) = value else { throw .malformed("request body must be a JSON object") }
        self.object = object
    }

    init(object: JSONObject) { self.object = object }

    private static func wrongType(_ key: String, _ expected: String) -> TalosError {
        .malformed("field \"\(key)\" must be \(expected)")
    }

    func presence(_ key: String) -> Presence<JSONValue> {
        guard let value = object[key] else { return .absent }
        return value.isNull ? .null : .value(value)
    }

    func string(_ key: String) throws(TalosError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw Self.wrongType(key, "a string")
        }
    }

    func stringPresence(_ key: String) throws(TalosError) -> Presence<String> {
        switch presence(key) {
        case .absent: return .absent
        case .null: return .null
        case .value: return .value(try string(key) ?? "")
        }
    }

    func strings(_ key: String) throws(TalosError) -> Presence<[String]> {
        switch presence(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let value):
            guard case .array(let items) = value else { throw Self.wrongType(key, "an array of strings") }
            var output: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw Self.wrongType(key, "an array of strings") }
                output.append(text)
            }
            return .value(output)
        }
    }

    func object(_ key: String) throws(TalosError) -> Presence<JSONObject> {
        switch presence(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let value):
            guard case .object(let object) = value else { throw Self.wrongType(key, "an object") }
            return .value(object)
        }
    }

    /// An int64 sent as a JSON number or a decimal string (spec §2.1).
    func int64(_ key: String) throws(TalosError) -> Int64? {
        switch object[key] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)? where value == value.rounded() && abs(value) < 9.2e18: return Int64(value)
        case .string(let text)?:
            guard let value = Int64(text) else { throw Self.wrongType(key, "an integer") }
            return value
        default: throw Self.wrongType(key, "an integer")
        }
    }

    /// An enum sent as its name or integer value; unknown names are 400 `INVALID_ARGUMENT`.
    func wireEnum<E: WireEnum>(_ key: String, as type: E.Type) throws(TalosError) -> E? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let name)?:
            guard let value = E(wireName: name) else {
                throw TalosError.validation(key, "unknown value \"\(name.prefix(64))\"")
            }
            return value
        case .int(let raw)?:
            guard let value = E(rawValue: Int(raw)) else { throw TalosError.validation(key, "unknown value \(raw)") }
            return value
        default: throw Self.wrongType(key, "an enum name")
        }
    }

    /// The attributes shared by issue, import, update and rotate bodies.
    func attributes() throws(TalosError) -> KeyAttributesInput {
        var attributes = KeyAttributesInput()
        attributes.name = try stringPresence("name")
        attributes.actorID = try stringPresence("actor_id")
        attributes.scopes = try strings("scopes")
        attributes.metadata = try object("metadata")
        switch try object("rate_limit_policy") {
        case .absent: break
        case .null: attributes.rateLimitPolicy = .null
        case .value(let policy):
            let reader = BodyReader(object: policy)
            let window: String?
            switch policy["window"] {
            case .object(let duration)?:
                let reader = BodyReader(object: duration)
                let seconds = try reader.int64("seconds") ?? 0
                let nanos = try reader.int64("nanos") ?? 0
                let fraction = String(nanos.magnitude)
                window =
                    nanos == 0
                    ? "\(seconds)s"
                    : "\(seconds).\(String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction)s"
            default: window = try reader.string("window")
            }
            attributes.rateLimitPolicy = .value(
                RateLimitPolicyInput(quota: try reader.int64("quota"), window: window, unit: try reader.string("unit"))
            )
        }
        switch try object("ip_restriction") {
        case .absent: break
        case .null: attributes.allowedCIDRs = .null
        case .value(let restriction):
            attributes.allowedCIDRs = .value(try BodyReader(object: restriction).strings("allowed_cidrs").value ?? [])
        }
        attributes.visibility = try wireEnum("visibility", as: KeyVisibility.self) ?? .unspecified
        return attributes
    }
}
