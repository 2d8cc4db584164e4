import TalosCore
import TalosTesting
import Testing

@Suite struct MemoryKeyStorageConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conformance(check: StorageConformance.Check) async throws {
        try await StorageConformance { MemoryKeyStorage() }.run(check)
    }
}
