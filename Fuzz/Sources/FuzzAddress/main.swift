@testable import TalosCore

/// Addresses and networks from headers and key restrictions (X-Forwarded-For, allowed_cidrs): never crash, and a
/// parsed address prints as text that parses back to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: min(count, 256)), as: UTF8.self)
    if let address = IPAddress(text) {
        precondition(IPAddress(address.description) == address, "an address does not parse back from its text")
    }
    if let network = CIDR(text) { _ = network.contains(IPAddress("10.0.0.1")!) }
    _ = DurationText.parseConfig(text)
    _ = DurationText.parseTTL(text)
    return 0
}
