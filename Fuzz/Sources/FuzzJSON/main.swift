@testable import TalosCore

/// The JSON parser (every request body): never crashes; what it accepts serializes and parses back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let value = try? JSONValue.parse(bytes, maxValues: 200_000) else { return 0 }
    let again = try! JSONValue.parse(value.serialized())
    precondition(again.serialized() == value.serialized(), "JSON round trip changed the value")
    return 0
}
