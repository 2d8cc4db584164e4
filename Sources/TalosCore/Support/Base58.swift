/// Base58 with the Bitcoin alphabet, as used in issued keys (spec §4.1).
///
/// Encoding treats the input as one big-endian integer; each leading zero byte becomes a leading `1`.
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    /// Encodes bytes; the empty input encodes to the empty string.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        let zeros = input.prefix(while: { $0 == 0 }).count
        // log(256) / log(58) ≈ 1.366
        var digits = [UInt8](repeating: 0, count: (input.count - zeros) * 138 / 100 + 1)
        var length = 0
        for byte in input[zeros...] {
            var carry = Int(byte)
            var index = 0
            var position = digits.count - 1
            while carry != 0 || index < length {
                carry += 256 * Int(digits[position])
                digits[position] = UInt8(carry % 58)
                carry /= 58
                index += 1
                position -= 1
            }
            length = index
        }
        var output = [UInt8](repeating: alphabet[0], count: zeros)
        output.reserveCapacity(zeros + length)
        for digit in digits[(digits.count - length)...] { output.append(alphabet[Int(digit)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes a Base58 string; `nil` when it contains a character outside the alphabet.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        let input = Array(string.utf8)
        let ones = input.prefix(while: { $0 == alphabet[0] }).count
        // log(58) / log(256) ≈ 0.733
        var bytes = [UInt8](repeating: 0, count: (input.count - ones) * 733 / 1000 + 1)
        var length = 0
        for character in input[ones...] {
            let value = decodeTable[Int(character)]
            guard value >= 0 else { return nil }
            var carry = Int(value)
            var index = 0
            var position = bytes.count - 1
            while carry != 0 || index < length {
                carry += 58 * Int(bytes[position])
                bytes[position] = UInt8(carry & 0xFF)
                carry >>= 8
                index += 1
                position -= 1
            }
            length = index
        }
        return [UInt8](repeating: 0, count: ones) + bytes[(bytes.count - length)...]
    }

    /// Whether every character is in the alphabet (and the string is non-empty).
    public static func isValid(_ string: some StringProtocol) -> Bool {
        !string.isEmpty && string.utf8.allSatisfy { decodeTable[Int($0)] >= 0 }
    }
}
