// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "talos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "talos", targets: ["TalosCLI"]),
        .library(name: "TalosCore", targets: ["TalosCore"]),
        .library(name: "TalosTesting", targets: ["TalosTesting"]),
        .library(name: "TalosClient", targets: ["TalosClient"]),
        .library(name: "TalosHummingbird", targets: ["TalosHummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.36.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC trait would add grpc-swift and its transport to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(
            name: "TalosCore",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosEdge",
            dependencies: [
                "TalosCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosHost",
            dependencies: [
                "TalosCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("Resources/openapi.json"),
                .embedInCode("Resources/console/console.html"),
                .embedInCode("Resources/console/console.js"),
                .embedInCode("Resources/console/console.css"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CTalosOpenSSL",
            path: "Sources/Plugins/CTalosOpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "TalosOpenSSL",
            dependencies: ["TalosCore", "CTalosOpenSSL"],
            path: "Sources/Plugins/TalosOpenSSL",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosSQLite",
            dependencies: [
                "TalosCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Plugins/TalosSQLite",
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CTalosSodium",
            path: "Sources/Plugins/CTalosSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "TalosSodium",
            dependencies: ["TalosCore", "CTalosSodium"],
            path: "Sources/Plugins/TalosSodium",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosPostgres",
            dependencies: [
                "TalosCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Plugins/TalosPostgres",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosPlugins",
            dependencies: ["TalosCore", "TalosSQLite", "TalosOpenSSL", "TalosSodium", "TalosPostgres"],
            path: "Sources/Plugins/TalosPlugins",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosClient",
            dependencies: [
                "TalosCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosHummingbird",
            dependencies: [
                "TalosClient",
                "TalosCore",
                "TalosOpenSSL",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "talos-example-service",
            dependencies: [
                "TalosCore",
                "TalosHummingbird",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Examples/ProtectedService",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TalosTesting",
            dependencies: ["TalosCore"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TalosCLI",
            dependencies: [
                "TalosClient",
                "TalosCore",
                "TalosEdge",
                "TalosHost",
                "TalosPlugins",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "talos-crypto-bench",
            dependencies: ["TalosCore", "TalosOpenSSL", "TalosSodium"],
            path: "Benchmarks/CryptoBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "talos-cache-bench",
            dependencies: ["TalosCore"],
            path: "Benchmarks/CacheBench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosClientTests",
            dependencies: [
                "TalosClient", "TalosCore", "TalosHost", "TalosPlugins",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosHummingbirdTests",
            dependencies: [
                "TalosClient", "TalosCore", "TalosHost", "TalosHummingbird", "TalosOpenSSL", "TalosPlugins",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosCoreTests",
            dependencies: ["TalosCore", "TalosTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosEdgeTests",
            dependencies: [
                "TalosCore", "TalosEdge", "TalosOpenSSL",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosServiceTests",
            dependencies: [
                "TalosCore", "TalosOpenSSL", "TalosSodium", "TalosTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosOpenSSLTests",
            dependencies: ["TalosCore", "TalosOpenSSL", "TalosTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosSQLiteTests",
            dependencies: [
                "TalosCore", "TalosSQLite", "TalosOpenSSL", "TalosTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosSodiumTests",
            dependencies: ["TalosCore", "TalosSodium", "TalosOpenSSL", "TalosTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosPostgresTests",
            dependencies: [
                "TalosCore", "TalosPostgres", "TalosTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TalosHostTests",
            dependencies: [
                "TalosCore", "TalosHost", "TalosOpenSSL", "TalosPlugins", "TalosTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
