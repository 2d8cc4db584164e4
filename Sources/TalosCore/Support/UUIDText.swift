/// Lowercase, hyphenated UUID strings (36 characters), the form every Talos id and nid takes.
public enum UUIDText {
    /// The nil UUID, the tenant of every row while multi-tenancy is disabled.
    public static let nilUUID = "00000000-0000-0000-0000-000000000000"

    /// A version 4 UUID built from 16 random bytes (the caller supplies them from the crypto backend's CSPRNG).
    public static func v4(randomBytes: [UInt8]) -> String {
        precondition(randomBytes.count == 16, "a UUID needs 16 random bytes")
        var bytes = randomBytes
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = Array(Hex.encode(bytes).utf8)
        var output: [UInt8] = []
        output.reserveCapacity(36)
        for (index, character) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { output.append(UInt8(ascii: "-")) }
            output.append(character)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The lowercase form of a hyphenated UUID of either case; `nil` when the text is not one.
    public static func normalized(_ text: some StringProtocol) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return nil }
        var output = bytes
        for (index, character) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): break
            case UInt8(ascii: "A")...UInt8(ascii: "F"): output[index] = character + 32
            default: return nil
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
