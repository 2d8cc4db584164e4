@testable import TalosCore

/// Base58 (credential identifiers): decode never crashes, and what decodes encodes back to the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: min(count, 256)), as: UTF8.self)
    if let bytes = Base58.decode(text) {
        precondition(Base58.decode(Base58.encode(bytes)) == bytes, "Base58 round trip changed the bytes")
    }
    return 0
}
