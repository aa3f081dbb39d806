import ArgumentParser
import Foundation
import Server

/// `sextant bench`: end-to-end benchmarks on generated scrape-like data.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run built-in benchmarks on generated scrape-like data.",
        discussion: """
        ingest appends through the head and WAL as scrapes do; compression compares the chunk \
        codec with Gorilla on the same data and writes it as blocks; query times dashboard-like \
        range queries on those blocks. Everything happens in a temporary directory that is \
        removed afterwards. Build with -c release for meaningful figures.

        Examples:
          sextant bench
          sextant bench compression --series 1000 --duration 24h
          sextant bench query --series 100000 --duration 2h
        """
    )

    enum Which: String, ExpressibleByArgument, CaseIterable {
        case ingest, compression, query, all
    }

    @Argument(help: "Which benchmark: ingest, compression, query or all.")
    var which: Which = .all

    @Option(help: "Number of series.")
    var series = 10_000

    @Option(help: "Time span of the data at one sample per 15 s (a duration like 2h).")
    var duration = "2h"

    func validate() throws {
        guard series > 0 else { throw ValidationError("--series must be at least 1") }
        guard let d = parseAPIDuration(duration), d >= 15_000 else {
            throw ValidationError("invalid --duration \"\(duration)\": a duration of at least 15s, like 2h")
        }
    }

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.path + "/sextant-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let progress = Progress()
        progress.update(0, "generating data", force: true)
        let data = BenchData(series: series, duration: parseAPIDuration(duration) ?? 7_200_000)
        var runner = BenchRunner(data: data, scratch: scratch, progress: progress)
        runner.add("data", "series x samples each", "\(series) x \(data.samplesPerSeries) = \(data.sampleCount) samples")
        if which == .ingest || which == .all { try runner.ingest() }
        if which == .compression || which == .all { try runner.compression() }
        if which == .query || which == .all { try runner.query() }
        progress.finish()
        print(textTable([["BENCHMARK", "MEASURE", "VALUE"]] + runner.figures.map { [$0.benchmark, $0.measure, $0.value] }), terminator: "")
    }
}
