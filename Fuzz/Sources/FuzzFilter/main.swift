@testable import TalosCore

/// The list filter parser (`filter=` on every list request): never crashes, refuses with a TalosError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: min(count, 1024)), as: UTF8.self)
    _ = try? KeyFilter.parse(text)
    return 0
}
