// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every target.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Sextant",
    products: [
        .executable(name: "sextant", targets: ["CLI"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "TSDB", targets: ["TSDB"]),
        .library(name: "PromQL", targets: ["PromQL"]),
        .library(name: "Exposition", targets: ["Exposition"]),
        .library(name: "Scrape", targets: ["Scrape"]),
        .library(name: "Remote", targets: ["Remote"]),
        .library(name: "Rules", targets: ["Rules"]),
        .library(name: "Server", targets: ["Server"]),
        // Generated scrape-like data, for the benchmarks (Benchmarks/Package.swift) and tests.
        .library(name: "Workloads", targets: ["Workloads"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // zlib (crc32) and SQLite (block index) from the system: zlib1g-dev, libsqlite3-dev.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // Snappy's block format for remote write and remote read: libsnappy-dev.
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        // Prefetch hints for the append path.
        .target(name: "CHints"),
        // Google RE2 (libre2-dev) behind a small C interface: linear-time regex matching with the
        // syntax of Go's regexp, for label matchers, label_replace and relabeling.
        .target(name: "CRE2", linkerSettings: [.linkedLibrary("re2")]),
        // The storage contracts (Appender, Querier, SeriesSet, SeriesIterator), the label model
        // and matchers: what PromQL and scraping know of a store.
        .target(name: "Storage", dependencies: ["CHints", "CRE2"], swiftSettings: strictSettings),
        .target(
            name: "TSDB",
            dependencies: ["Storage", "CZlib", "CSQLite", .product(name: "Logging", package: "swift-log")],
            // Dynamic exclusivity checks stay on: turning them off (-enforce-exclusivity=unchecked)
            // measured 3.25 against 3.10 M samples/s of head ingestion (medians of six
            // alternated `sextant bench ingest` runs, spreads 2.88-3.73 and 2.84-3.18): inside
            // the noise, so not worth an unsafe flag.
            swiftSettings: strictSettings
        ),
        // Generated scrape-like data for benchmarks and tests.
        .target(name: "Workloads", dependencies: ["TSDB"], swiftSettings: strictSettings),
        .target(name: "PromQL", dependencies: ["Storage"], swiftSettings: strictSettings),
        // The exposition formats (Prometheus text, OpenMetrics, import lines): parsers and the
        // series-text cache, free of networking, so fuzzers and importers link only these.
        .target(name: "Exposition", dependencies: ["Storage"], swiftSettings: strictSettings),
        // Recording and alerting rules: rule files, evaluation, templates, and promtool's rule
        // unit tests (which run on a TSDB head of their own).
        .target(
            name: "Rules",
            dependencies: ["Storage", "PromQL", "TSDB", .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Sending alerts to Alertmanagers: discovery of them, the queue, the HTTP POSTs.
        .target(
            name: "Alerting",
            dependencies: [
                "Rules", "Scrape", "Storage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Scrape",
            dependencies: [
                "Storage", "Exposition",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Prometheus' remote write and remote read: the protobuf messages (generated once from
        // Protos/, committed), snappy, the receiver, the read service, and the sending queues
        // that follow TSDB's WAL (configuration, relabeling and HTTP settings from Scrape).
        .target(
            name: "Remote",
            dependencies: [
                "Storage", "TSDB", "Scrape", "CSnappy",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Protocol/Generated/README.md"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Server",
            dependencies: [
                "TSDB", "PromQL", "Exposition", "Scrape", "Remote", "Rules", "Alerting", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "CLI",
            dependencies: [
                "Server", "TSDB", "PromQL", "Exposition", "Scrape", "Rules", "Workloads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        // What the test suites share: child processes (the built binaries, promtool, openssl)
        // run and awaited off the cooperative pool, free ports, polling with a deadline, a
        // store in memory.
        .target(name: "TestSupport", dependencies: ["Storage"], path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "TSDBTests", dependencies: ["TSDB", "Workloads", "TestSupport", "tsdb-crash-child"],
                    swiftSettings: strictSettings),
        // Appends until killed; the crash tests run it as a child process.
        .executableTarget(name: "tsdb-crash-child", dependencies: ["TSDB"], path: "Tests/CrashChild"),
        .testTarget(name: "ScrapeTests", dependencies: [
            "Exposition", "Scrape", "TSDB", "TestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ], swiftSettings: strictSettings),
        .testTarget(name: "PromQLTests", dependencies: ["PromQL", "TSDB", "Workloads"], swiftSettings: strictSettings),
        // Depends on the executable so that `swift test` builds the binary some tests run.
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "TSDB", "PromQL", "Scrape", "Remote", "CLI", "Workloads", "TestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "TSDB", "Scrape", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "AlertingTests", dependencies: ["Alerting", "Rules", "Scrape", "Storage", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSettings),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "TSDB", "PromQL", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSettings),
        // Depends on the executable so that `swift test` builds the binary it runs.
        .testTarget(name: "CLITests", dependencies: ["CLI", "TSDB", "TestSupport"], swiftSettings: strictSettings),
    ]
)
