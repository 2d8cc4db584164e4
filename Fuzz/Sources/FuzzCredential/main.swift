@testable import TalosCore

/// Credential parsing (every verify, derive and self-revoke): the issued-key format and its identifier.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: min(count, 8192)), as: UTF8.self)
    if let parts = IssuedKeyFormat.parse(text) {
        _ = IssuedKeyFormat.decodeIdentifier(parts.identifier)
    }
    _ = IssuedKeyFormat.decodeIdentifier(text)
    return 0
}
