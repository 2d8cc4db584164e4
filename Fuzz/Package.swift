// swift-tools-version:6.0
// Coverage-guided fuzzing of what an attacker can feed Talos (libFuzzer). Built apart from the main package, with
// every module instrumented: scripts/fuzz.sh (`swift build --sanitize=fuzzer --sanitize=address` here).
import PackageDescription

let targets = ["FuzzJSON", "FuzzBase58", "FuzzCredential", "FuzzMacaroon", "FuzzFilter", "FuzzAddress"]

let package = Package(
    name: "talos-fuzz",
    dependencies: [.package(name: "talos", path: "..")],
    targets: targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [.product(name: "TalosCore", package: "talos")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    }
)
