import Foundation
import TalosCore
import Testing

/// The JSON parser against nst/JSONTestSuite (`../shared/testdata/JSONTestSuite/test_parsing`, see its SOURCE.md):
/// every `y_` document accepted, every `n_` document refused, every `i_` document answered without a crash.
@Suite struct JSONTestSuiteTests {
    static let directory: URL = {
        if let path = ProcessInfo.processInfo.environment["TALOS_JSON_TEST_SUITE"] { return URL(fileURLWithPath: path) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent(
            "shared/testdata/JSONTestSuite/test_parsing"
        )
    }()

    static func files(_ prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    private func parse(_ name: String) throws -> Result<JSONValue, JSONParseError> {
        let bytes = Array(try Data(contentsOf: Self.directory.appendingPathComponent(name)))
        return Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(bytes) }
    }

    @Test func suiteIsPresent() {
        #expect(
            Self.files("y_").count >= 95 && Self.files("n_").count >= 188,
            "JSONTestSuite not found at \(Self.directory.path)"
        )
    }

    @Test(arguments: files("y_")) func accepts(name: String) throws {
        if case .failure(let error) = try parse(name) { Issue.record("\(name) refused: \(error.detail)") }
    }

    @Test(arguments: files("n_")) func refuses(name: String) throws {
        if case .success = try parse(name) { Issue.record("\(name) accepted") }
    }

    @Test(arguments: files("i_")) func answersImplementationDefined(name: String) throws {
        _ = try parse(name)
    }
}
