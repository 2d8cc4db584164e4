import ArgumentParser

/// Flags of `talos serve`, `serve admin` and `serve public`.
struct ServeOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "JSON configuration file.")
    var config: String?

    @Flag(help: "Development mode: a generated HMAC secret next to the SQLite file, loopback only; not for production.")
    var dev = false

    @Flag(help: "Apply pending migrations before serving (under an advisory lock where the database has one).")
    var migrate = false
}
