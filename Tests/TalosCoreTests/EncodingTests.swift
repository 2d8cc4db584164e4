import TalosCore
import Testing

@Suite struct Base58Tests {
    @Test(arguments: [
        ([UInt8](), ""), ([0], "1"), ([0, 0, 1], "112"), (Array("hello world".utf8), "StV1DL6CwTryKyV"),
        ([0xFF, 0xFF], "LUv"),
    ])
    func knownValues(bytes: [UInt8], text: String) {
        #expect(Base58.encode(bytes) == text)
        #expect(Base58.decode(text) == bytes)
    }

    @Test func specIdentifier() {
        let payload = "1780334005:792b4c1a-1a2d-430b-b733-c789a2b7b1fe"
        #expect(
            Base58.encode(Array(payload.utf8)) == "QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2"
        )
        #expect(
            Base58.decode("DJoBPdf7xPYemWCPWoimtimWg88YcAiGXrfFBg9Yk8ES").map(Hex.encode)
                == "b6db54f0568935b36775c27360ac1ff2b4aee0ee9b5e41da220b8524b63ad06f"
        )
    }

    @Test func roundTripsRandomInputs() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<80 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if length % 7 == 0, !bytes.isEmpty { bytes[0] = 0 }
            #expect(Base58.decode(Base58.encode(bytes)) == bytes)
        }
    }

    @Test func rejectsCharactersOutsideTheAlphabet() {
        for text in ["0", "O", "I", "l", "abc+", "é"] { #expect(Base58.decode(text) == nil) }
        #expect(!Base58.isValid(""))
    }
}

@Suite struct IssuedKeyFormatTests {
    let key =
        "ory_ak_v1_QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2_DJoBPdf7xPYemWCPWoimtimWg88YcAiGXrfFBg9Yk8ES"

    @Test func parsesFromTheRight() throws {
        let parts = try #require(IssuedKeyFormat.parse(key))
        #expect(parts.prefix == "ory_ak")
        #expect(parts.checksum == "DJoBPdf7xPYemWCPWoimtimWg88YcAiGXrfFBg9Yk8ES")
        let identity = try #require(IssuedKeyFormat.decodeIdentifier(parts.identifier))
        #expect(identity.createdAtSeconds == 1_780_334_005)
        #expect(identity.keyID == "792b4c1a-1a2d-430b-b733-c789a2b7b1fe")
    }

    @Test func referenceExampleHasTheSameIdentifier() throws {
        let parts = try #require(
            IssuedKeyFormat.parse(
                "prod_v1_QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2_3wyBJBd2KxqXK117oqGWZzJU85Nv7C9vKWj9nVSqbEby"
            )
        )
        #expect(Base58.decode(parts.checksum)?.count == 32)
        #expect(IssuedKeyFormat.decodeIdentifier(parts.identifier)?.keyID == "792b4c1a-1a2d-430b-b733-c789a2b7b1fe")
    }

    @Test func prefixesMayContainUnderscores() {
        #expect(IssuedKeyFormat.parse("my_org_key_v1_abc_def")?.prefix == "my_org_key")
        #expect(IssuedKeyFormat.parse("toolongprefix_abcdef_v1_abc_def") == nil)
        #expect(IssuedKeyFormat.parse("p_v2_abc_def") == nil)
        #expect(IssuedKeyFormat.parse("p_v1__def") == nil)
        #expect(IssuedKeyFormat.parse("p-x_v1_abc_def") == nil)
    }

    @Test func routing() {
        let macaroons = ["mc", "oldmc"]
        #expect(CredentialRoute.route("eyJhbGciOi.eyJzdWIi.c2ln", macaroonPrefixes: macaroons) == .derivedJWT)
        #expect(CredentialRoute.route("eyJ.a.b.c", macaroonPrefixes: macaroons) == .imported)
        #expect(CredentialRoute.route("mc_v1_AgEX", macaroonPrefixes: macaroons) == .derivedMacaroon)
        #expect(CredentialRoute.route("oldmc_v1_AgEX", macaroonPrefixes: macaroons) == .derivedMacaroon)
        if case .issued = CredentialRoute.route(key, macaroonPrefixes: macaroons) {} else { Issue.record("not issued") }
        // v1-shaped but the identifier does not decode to "<seconds>:<uuid>" → imported.
        #expect(CredentialRoute.route("sk_v1_abc_def", macaroonPrefixes: macaroons) == .imported)
        #expect(CredentialRoute.route("sk_live_abc123", macaroonPrefixes: macaroons) == .imported)
    }
}

@Suite struct DurationTests {
    @Test(arguments: [
        ("1s", Int64(1_000_000_000)), ("1.5h", 5_400_000_000_000), ("5m30s", 330_000_000_000), ("500ms", 500_000_000),
        ("1us", 1_000), ("1µs", 1_000), ("2ns", 2), ("0", 0),
    ])
    func configGrammar(text: String, nanos: Int64) {
        #expect(DurationText.parseConfig(text) == nanos)
    }

    @Test(arguments: ["", "1", "1d", "-1s", "1 s", "s", "1.s", "1h-5m"])
    func configGrammarRejects(text: String) {
        #expect(DurationText.parseConfig(text) == nil)
    }

    @Test(
        arguments: [
            ("1d", 86_400), ("2w", 1_209_600), ("1y6mo", 47_088_000), ("1d12h", 129_600),
            ("604800s", 604_800), ("1mo", 2_592_000), ("30m", 1_800), ("168h", 604_800),
        ] as [(String, Int64)]
    )
    func ttlGrammar(text: String, seconds: Int64) {
        #expect(DurationText.parseTTL(text) == seconds * 1_000_000_000)
    }

    @Test(arguments: [
        (Int64(8760 * 3600) * 1_000_000_000, "8760h0m0s"), (3_600_000_000_000, "1h0m0s"), (1_800_000_000_000, "30m0s"),
        (90_000_000_000, "1m30s"), (45_000_000_000, "45s"), (1_500_000_000, "1.5s"), (500_000_000, "500ms"), (0, "0s"),
        (7_198_000_000_000, "1h59m58s"),
    ])
    func goFormatting(nanos: Int64, text: String) {
        #expect(DurationText.formatGo(nanos) == text)
    }
}

@Suite struct TimestampTests {
    @Test func formatsRFC3339() {
        #expect(Timestamp(seconds: 1_780_334_005).rfc3339 == "2026-06-01T17:13:25Z")
        #expect(Timestamp(microseconds: 1_780_334_005_123_000).rfc3339 == "2026-06-01T17:13:25.123Z")
        #expect(Timestamp(microseconds: 1_780_334_005_123_456).rfc3339 == "2026-06-01T17:13:25.123456Z")
        #expect(Timestamp(seconds: 0).rfc3339 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(seconds: 951_782_400).rfc3339 == "2000-02-29T00:00:00Z")
    }

    @Test func parsesRFC3339() {
        #expect(Timestamp(rfc3339: "2026-06-01T17:13:25Z") == Timestamp(seconds: 1_780_334_005))
        #expect(Timestamp(rfc3339: "2026-06-01T19:13:25.5+02:00") == Timestamp(microseconds: 1_780_334_005_500_000))
        #expect(Timestamp(rfc3339: "2026-06-01T17:13:25.123456789Z") == Timestamp(microseconds: 1_780_334_005_123_456))
        #expect(Timestamp(rfc3339: "2026-06-01 17:13:25") == nil)
        #expect(Timestamp(rfc3339: "2026-13-01T17:13:25Z") == nil)
    }
}

@Suite struct CIDRTests {
    @Test func normalizesToNetworkForm() {
        #expect(CIDR("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(CIDR("192.168.1.7")?.description == "192.168.1.7/32")
        #expect(CIDR("2001:db8::1/32")?.description == "2001:db8::/32")
        #expect(CIDR("::1")?.description == "::1/128")
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("not-an-ip") == nil)
        #expect(CIDR("010.0.0.1") == nil)
    }

    @Test func matchesIPv4MappedAddressesAsIPv4() throws {
        let cidr = try #require(CIDR("10.0.0.0/8"))
        #expect(cidr.contains(try #require(IPAddress("10.9.8.7"))))
        #expect(cidr.contains(try #require(IPAddress("::ffff:10.9.8.7"))))
        #expect(!cidr.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!cidr.contains(try #require(IPAddress("2001:db8::1"))))
    }
}

@Suite struct JSONTests {
    /// Spec §15.6: a batch's item cap ends the parse at the first item over it; other arrays are not capped.
    @Test func itemCapStopsTheParse() throws {
        let cap = JSONItemCap(member: "requests", items: 3)
        let within = try JSONValue.parse(
            Array(#"{"requests":[1,2,3],"other":[1,2,3,4],"x":{"requests":[1,2,3,4]}}"#.utf8),
            itemCap: cap
        )
        #expect(within["requests"]?.arrayValue?.count == 3)
        do {
            // Invalid after the fourth item: the cap is reported before the rest is read.
            _ = try JSONValue.parse(Array(#"{"requests":[1,2,3,4,oops"#.utf8), itemCap: cap)
            Issue.record("the cap did not stop the parse")
        } catch {
            #expect(error.exceededItemCap && error.detail == "more than 3 items at offset 19")
        }
        #expect(throws: JSONParseError.self) {
            try JSONValue.parse(Array(#"{"requests":[1,oops]}"#.utf8), itemCap: cap)
        }
    }

    @Test func keepsMemberOrderAndRoundTrips() throws {
        let text = #"{"z":1,"a":[true,false,null,1.5,-2,"x\"\\\n\u00e9"],"m":{}}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(try JSONValue.parse(value.serialized()) == value)
        #expect(value["a"]?.arrayValue?[5] == .string("x\"\\\né"))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "\"\\x\"", "{\"a\":1}x", "nul", "\"\u{01}\""])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func limitsNesting() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 600)) }
    }

    @Test func parsesSurrogatePairs() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }
}

@Suite struct FilterTests {
    @Test func parsesTerms() throws {
        #expect(try KeyFilter.parse("") == KeyFilter())
        #expect(
            try KeyFilter.parse(#"actor_id="user_123" AND status=KEY_STATUS_ACTIVE"#)
                == KeyFilter(actorID: "user_123", status: .active)
        )
        #expect(try KeyFilter.parse(#"status = KEY_STATUS_EXPIRED"#) == KeyFilter(status: .expired))
        #expect(try KeyFilter.parse(#"actor_id="a\"b\\c""#) == KeyFilter(actorID: #"a"b\c"#))
    }

    @Test(arguments: [
        (#"name="x""#, #"invalid filter: unsupported field "name""#),
        (#"actor_id="a" OR status=KEY_STATUS_ACTIVE"#, "invalid filter: unsupported syntax"),
        (#"actor_id!="a""#, "invalid filter: unsupported syntax"),
        ("status=KEY_STATUS_UNSPECIFIED", #"invalid filter: unknown status "KEY_STATUS_UNSPECIFIED""#),
        (#"actor_id="a" AND actor_id="b""#, #"invalid filter: duplicated field "actor_id""#),
        (#"actor_id="a"#, "invalid filter: actor_id value must be a double-quoted string"),
        (#"(actor_id="a")"#, "invalid filter: unsupported syntax"),
        (#"actor_id="a" and status=KEY_STATUS_ACTIVE"#, "invalid filter: unsupported syntax"),
    ])
    func rejects(filter: String, message: String) {
        #expect(throws: TalosError(.invalidFilter, message)) { try KeyFilter.parse(filter) }
    }
}

@Suite struct JSONObjectTests {
    @Test func duplicatesReplaceInPlaceAndLargeObjectsParse() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#) == .object(JSONObject([("a", 3), ("b", 2)])))
        let members = (0..<100_000).map { "\"k\($0)\":0" }.joined(separator: ",")
        #expect(try JSONValue.parse("{\(members)}").objectValue?.count == 100_000)
    }
}
