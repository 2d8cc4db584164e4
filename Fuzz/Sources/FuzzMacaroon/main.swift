@testable import TalosCore

/// The macaroon V2 decoder (derived tokens presented for verification): never crashes, and what decodes encodes
/// back to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: min(count, 8192)))
    if let decoded = MacaroonCodec.decode(bytes) {
        let encoded = MacaroonCodec.encodeForTesting(
            location: decoded.location,
            identifier: decoded.identifier,
            caveats: decoded.caveats,
            signature: decoded.signature
        )
        precondition(MacaroonCodec.decode(encoded) != nil, "a decoded macaroon does not decode once re-encoded")
    }
    return 0
}
