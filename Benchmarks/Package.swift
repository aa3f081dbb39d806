// swift-tools-version: 6.1
import PackageDescription

// Sextant's benchmarks (ordo-one/benchmark), a package of their own so that the benchmark
// library and its malloc interposer stay out of the server's build. Run from this directory:
//
//   swift package benchmark                                   all of them, release build
//   swift package benchmark --target ScrapeBenchmarks         one target
//   swift package benchmark thresholds check --metric mallocCountTotal
//                                                             allocations against Thresholds/
//   swift package --allow-writing-to-package-directory benchmark thresholds update --metric mallocCountTotal
//                                                             record new allocation thresholds
//
// The thresholds under Thresholds/ are allocation counts (p90), which do not depend on the
// machine; times are compared as ratios within one run (README, "Benchmarks").

/// A benchmark target: its folder under Benchmarks/ and the Sextant libraries it measures.
func benchmark(_ name: String, _ libraries: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: libraries.map { .product(name: $0, package: "Sextant") } + [
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "SextantBenchmarks",
    dependencies: [
        .package(name: "Sextant", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        benchmark("TSDBBenchmarks", ["TSDB", "Workloads"]),
        benchmark("ScrapeBenchmarks", ["Storage", "Exposition", "Scrape", "TSDB"]),
        benchmark("PromQLBenchmarks", ["PromQL", "TSDB"]),
    ]
)
