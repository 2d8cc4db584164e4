import ArgumentParser
import TalosCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `talos` executable: server, migrations and the admin CLI.
@main
struct Talos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "talos",
        abstract: "Issue, verify, rotate and revoke API keys.",
        version: TalosVersion.current,
        subcommands: [
            Serve.self, Proxy.self, Migrate.self, Keys.self, AdminKeysCommand.self, Jwk.self, ConfigCommand.self,
        ]
    )

    /// Exit codes (spec §10.1): 0 success, 1 operation failed, 2 usage or configuration error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            if !failure.message.isEmpty { printError(failure.message) }
            terminate(failure.exitCode)
        } catch let error as ConfigError {
            printError("Error: \(error)")
            terminate(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit {
                print(fullMessage(for: error))
                terminate(0)
            }
            printError(fullMessage(for: error))
            terminate(2)
        }
    }
}

/// Ends the process with `code` (the C library's `exit`, named apart from `ParsableCommand.exit(withError:)`).
private func terminate(_ code: Int32) -> Never { exit(code) }

/// A command that ends with a message on stderr and a given exit code.
struct CommandFailure: Error {
    let message: String
    let exitCode: Int32

    /// The operation failed (exit 1).
    static func failed(_ message: String) -> CommandFailure { CommandFailure(message: message, exitCode: 1) }
    /// Usage or configuration error (exit 2).
    static func usage(_ message: String) -> CommandFailure { CommandFailure(message: message, exitCode: 2) }
}

func printError(_ message: String) {
    var bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// The process environment.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let separator = text.firstIndex(of: "=") {
            result[String(text[..<separator])] = String(text[text.index(after: separator)...])
        }
        pointer += 1
    }
    return result
}

/// Loads the configuration from `--config` and `TALOS_*`.
func loadConfig(path: String?) throws -> TalosConfig.LoadResult {
    var contents: [UInt8]?
    if let path {
        guard let bytes = readWholeFile(path) else { throw ConfigError("cannot read config file \"\(path)\"") }
        contents = bytes
    }
    return try TalosConfig.load(fileContents: contents, environment: processEnvironment())
}
