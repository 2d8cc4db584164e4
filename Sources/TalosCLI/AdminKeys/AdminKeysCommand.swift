import ArgumentParser
import Logging
import TalosCore
import TalosPlugins

/// `talos admin-keys create|list|revoke` (spec §16.3): admin keys straight in the database, with or without a
/// running server — how the first admin key of a server with `serve.admin.auth.enabled` comes to exist. Reads
/// `db.dsn` and the HMAC secret from the configuration and `TALOS_*`, like `talos migrate`.
struct AdminKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin-keys",
        abstract: "Create, list and revoke admin keys in the database (works with the server down).",
        subcommands: [AdminKeysCreate.self, AdminKeysList.self, AdminKeysRevoke.self]
    )
}

/// Flags shared by the admin-keys commands.
struct AdminKeysOptions: ParsableArguments {
    /// `--config` and `--database`, read as `talos migrate` reads them.
    @OptionGroup var storage: MigrateOptions

    @Option(help: "Tenant (network id) of the admin key; default: the nil UUID (multi-tenancy off).")
    var network: String?

    @Option(help: "Output format: table, json, json-pretty, yaml, jsonpath=<expr>, jsonpointer=<ptr>.")
    var format: OutputFormat = .table

    func validate() throws {
        if let network, UUIDText.normalized(network) == nil { throw ValidationError("--network must be a UUID") }
    }

    /// Runs `body` with admin keys over the configured storage; storage and API errors exit 1.
    func run(_ body: @escaping @Sendable (AdminKeyService, _ nid: String) async throws -> Void) async throws {
        var config = try loadConfig(path: storage.config).config
        config.databaseDSN = storage.dsn { config.databaseDSN }
        guard config.hmacSecret != nil else {
            throw CommandFailure.usage(
                "Error: secrets.hmac.current: value is required (set TALOS_SECRETS_HMAC_CURRENT, the server's secret)"
            )
        }
        let registry = BackendRegistry.builtIn
        let crypto = try registry.cryptoProvider(named: config.cryptoBackend).make()
        let settings = SettingsStore(try TenantSettings(config: config, crypto: crypto))
        let logger = Logger(label: "talos.admin-keys") { _ in SwiftLogNoOpLogHandler() }
        let handle = try await MigrateOptions.open(dsn: config.databaseDSN)
        let nid = network.flatMap(UUIDText.normalized) ?? UUIDText.nilUUID
        do {
            try await handle.withServices { handle in
                let status = try await handle.migrator.status()
                if !status.isUpToDate {
                    guard handle.migratesAutomatically, !status.dirty else {
                        throw CommandFailure.failed(
                            "Error: database schema is not up to date; run \"talos migrate up\" first"
                        )
                    }
                    try await handle.migrator.up(steps: nil)
                }
                let service = KeyService(
                    storage: handle.storage,
                    crypto: crypto,
                    settings: settings,
                    clock: SystemWallClock(),
                    logger: logger,
                    tracing: false
                )
                try await body(AdminKeyService(service: service), nid)
            }
        } catch let error as StorageError {
            throw CommandFailure.failed("Error: \(error.detail)")
        } catch let error as TalosError {
            throw CommandFailure.failed("Error: \(error.message) (\(error.reason.name))")
        }
    }
}

/// The table rows of an admin key.
func adminKeyRows(_ key: JSONValue) -> [(String, String)] {
    [
        ("KEY ID", key["key_id"]?.stringValue ?? ""),
        ("NAME", key["name"]?.stringValue ?? ""),
        ("PERMISSIONS", (key["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")),
        ("STATUS", key["status"]?.stringValue ?? ""),
        ("CREATED", key["create_time"]?.stringValue ?? ""),
        ("EXPIRES", key["expire_time"]?.stringValue ?? "never"),
        ("LAST USED", key["last_used_time"]?.stringValue ?? "never"),
    ]
}

/// `talos admin-keys create NAME --permissions '*' [--ttl 720h]`.
struct AdminKeysCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an admin key.")

    @OptionGroup var options: AdminKeysOptions

    @Option(
        help: """
            Comma-separated permissions: keys.read, keys.write, keys.verify, tokens.derive, revocations.watch, \
            admin_keys.manage, or * (all).
            """
    )
    var permissions: String

    @Option(help: "Lifetime, a Go duration such as 720h; default: no expiry.")
    var ttl: String?

    @Flag(name: [.short, .long], help: "Print only the secret.")
    var quiet = false

    @Argument(help: "Admin key name.")
    var name: String

    func run() async throws {
        let permissions = permissions.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        try await options.run { [name, ttl, quiet, format = options.format] adminKeys, nid in
            let created = try await adminKeys.create(name: name, permissions: permissions, ttl: ttl, nid: nid)
            if quiet {
                print(created.secret)
                return
            }
            let key = AdminKeyService.json(created.key, now: SystemWallClock().now())
            try Printer(format: format).emit(["admin_key": key, "secret": .string(created.secret)]) {
                adminKeyRows(key) + [("SECRET", created.secret)]
            }
            if format == .table { printError("Store the secret now; it will not be shown again.") }
        }
    }
}

/// `talos admin-keys list`: every admin key of the tenant, newest page by page.
struct AdminKeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List admin keys.")

    @OptionGroup var options: AdminKeysOptions

    func run() async throws {
        try await options.run { [format = options.format] adminKeys, nid in
            var keys: [JSONValue] = []
            var token = ""
            let now = SystemWallClock().now()
            repeat {
                let page = try await adminKeys.list(nid: nid, pageSize: 1000, pageToken: token)
                keys += page.keys.map { AdminKeyService.json($0, now: now) }
                token = page.nextPageToken
            } while !token.isEmpty
            try Printer(format: format).emit(["admin_keys": .array(keys)]) {
                keys.flatMap { adminKeyRows($0) + [("", "")] }
            }
        }
    }
}

/// `talos admin-keys revoke KEY_ID`.
struct AdminKeysRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an admin key.",
        discussion: """
            On PostgreSQL every running replica refuses the key within a second. A running SQLite server with \
            cache.enabled keeps honouring it for up to cache.ttl; revoke through the API \
            (POST /v2alpha1/admin/adminKeys/KEY_ID:revoke) to make it immediate.
            """
    )

    @OptionGroup var options: AdminKeysOptions

    @Argument(help: "Admin key id (UUID).")
    var keyID: String

    func run() async throws {
        try await options.run { [keyID, format = options.format] adminKeys, nid in
            let key = AdminKeyService.json(
                try await adminKeys.revoke(keyID: keyID, nid: nid),
                now: SystemWallClock().now()
            )
            try Printer(format: format).emit(["admin_key": key]) { adminKeyRows(key) }
        }
    }
}
