// swift-tools-version: 6.1
import PackageDescription

// libFuzzer harnesses for Sextant's parsers and decoders. Not part of the main package: they
// only build with `-sanitize=fuzzer` (which links libFuzzer). Build and run them with
// `Scripts/fuzz.sh`; see Fuzz/README.md.
//
// Each fuzz target is one file exposing `LLVMFuzzerTestOneInput` and an entry point that
// starts libFuzzer's driver (CFuzzMain.h says why); `@testable import` reaches internals, so
// the build passes `-enable-testing` (release builds drop it otherwise).

/// Fuzz targets and the Sextant libraries each uses: only what the harness reaches, since
/// libFuzzer scans every instrumented module's counters after each run.
let fuzzTargets: [(name: String, libraries: [String])] = [
    ("FuzzPromQLParser", ["PromQL", "TSDB"]),
    ("FuzzPromQLEval", ["PromQL", "TSDB"]),
    ("FuzzTextParser", ["Exposition", "Storage"]),
    ("FuzzOpenMetricsParser", ["Exposition", "Storage"]),
    ("FuzzWALRecord", ["TSDB"]),
    ("FuzzChunk", ["TSDB"]),
    ("FuzzBlockIndex", ["TSDB"]),
    ("FuzzRemoteProtocol", ["Remote", "TSDB", "Storage"]),
    ("FuzzRules", ["Rules", "Storage"]),
    // Not a fuzzer: writes the binary seed corpora (WAL, chunks, block index); see
    // Fuzz/README.md.
    ("FuzzSeeds", ["TSDB", "Remote"]),
]

/// Harnesses that build protobuf messages themselves.
let protobufTargets: Set = ["FuzzRemoteProtocol", "FuzzSeeds"]

let package = Package(
    name: "SextantFuzz",
    dependencies: [
        .package(name: "Sextant", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: fuzzTargets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["CFuzzMain"] + target.libraries.map { .product(name: $0, package: "Sextant") }
                + (protobufTargets.contains(target.name) ? [.product(name: "SwiftProtobuf", package: "swift-protobuf")] : []),
            // No top-level code: each harness defines its entry point, `<target>_main` (see
            // CFuzzMain.h). SwiftPM compiles a one-file executable as a library only when the
            // file contains `@main`.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    } + [
        // Hands a harness's entry point over to libFuzzer's driver.
        .target(name: "CFuzzMain"),
    ]
)
