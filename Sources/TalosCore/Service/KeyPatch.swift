/// Validated changes to a key's mutable fields; `nil` members leave the field unchanged.
struct KeyPatch: Sendable {
    var name: String?
    var scopes: [String]?
    var metadata: JSONObject?
    /// `.some(nil)` removes the policy.
    var rateLimitPolicy: RateLimitPolicy??
    /// `[]` removes the restriction.
    var allowedCIDRs: [String]?

    /// An update (spec §3.4, §14.9): with a mask only the listed paths change and absent/null listed fields are
    /// cleared; without one, only populated fields change (`"name":""` and `"scopes":[]` are ignored).
    init(_ input: KeyAttributesInput, paths: [String]?) throws(TalosError) {
        if let paths {
            for path in paths {
                switch path {
                case "name": name = try Validate.name(input.name.value ?? "")
                case "scopes": scopes = try Validate.scopes(input.scopes.value ?? [])
                case "metadata": metadata = try Validate.metadata(input.metadata.value ?? [:])
                case "rate_limit_policy":
                    rateLimitPolicy = .some(try input.rateLimitPolicy.value.map(Validate.rateLimitPolicy))
                case "ip_restriction": allowedCIDRs = try Validate.cidrs(input.allowedCIDRs.value ?? [])
                default: break
                }
            }
            return
        }
        if let name = input.name.value, !name.isEmpty { self.name = try Validate.name(name) }
        if let scopes = input.scopes.value, !scopes.isEmpty { self.scopes = try Validate.scopes(scopes) }
        try applyObjects(input)
    }

    /// Rotation overrides (spec §3.5, §14.10): absent or null inherits; any present value overrides, even empty.
    init(rotation input: KeyAttributesInput) throws(TalosError) {
        if let name = input.name.value { self.name = try Validate.name(name) }
        if let scopes = input.scopes.value { self.scopes = try Validate.scopes(scopes) }
        try applyObjects(input)
    }

    private mutating func applyObjects(_ input: KeyAttributesInput) throws(TalosError) {
        if let metadata = input.metadata.value { self.metadata = try Validate.metadata(metadata) }
        if let policy = input.rateLimitPolicy.value { rateLimitPolicy = .some(try Validate.rateLimitPolicy(policy)) }
        if let cidrs = input.allowedCIDRs.value { allowedCIDRs = try Validate.cidrs(cidrs) }
    }

    func apply(to key: APIKey) -> APIKey {
        var key = key
        if let name { key.name = name }
        if let scopes { key.scopes = scopes }
        if let metadata { key.metadata = metadata }
        if let rateLimitPolicy { key.rateLimitPolicy = rateLimitPolicy }
        if let allowedCIDRs { key.allowedCIDRs = allowedCIDRs }
        return key
    }
}
