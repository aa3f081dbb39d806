import Benchmark
import Exposition
import Foundation
import Scrape
import Storage
import TSDB

/// A text-format body of 10k series: 100 metric names x 100 label combinations, with sample
/// timestamps or without (as most targets send them: the scrape's time is used).
func exposition(series: Int = 10_000, timestamps: Bool = true) -> [UInt8] {
    var out = ""
    for m in 0..<100 {
        out += "# HELP bench_metric_\(m) A benchmark metric.\n# TYPE bench_metric_\(m) counter\n"
        for i in 0..<(series / 100) {
            out += "bench_metric_\(m){instance=\"host-\(i % 10):9100\",job=\"node\",path=\"/api/v\(i)\",code=\"\(200 + i % 3 * 100)\"} \(i * 37 + m).\(i % 10)\(timestamps ? " 1764000000000" : "")\n"
        }
    }
    return Array(out.utf8)
}

/// A series cache holding every series of `body`, as after a first scrape.
func cached(_ body: [UInt8]) throws -> SeriesTextCache {
    var cache = SeriesTextCache()
    var parser = TextParser(body)
    var ref: SeriesRef = 0
    while let e = try parser.next() {
        if case .sample(let series, _, _) = e { cache.insert(series, ref); ref += 1 }
    }
    return cache
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3),
                                           thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 2])])
    let body = exposition()

    // The path every sample of a repeat scrape takes: find the series text, look it up in the
    // cache, read value and timestamp.
    Benchmark("Parse 10k-series body, cached series (\(body.count / 1024) KiB)") { benchmark in
        var cache = try cached(body)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var p = TextParser(body)
            var sum = 0.0
            var hits = 0
            while let e = try p.next() {
                if case .sample(let series, let value, _) = e, cache.ref(for: series) != nil {
                    sum += value
                    hits += 1
                }
            }
            blackHole(sum)
            precondition(hits == 10_000)
        }
    }

    // The scrape loop's path: each line checked against the series the cache expects next (the
    // one after the last found), so a repeat scrape in the same order needs no hashing and no
    // scan of the series text.
    Benchmark("Parse 10k-series body, guessed series (\(body.count / 1024) KiB)") { benchmark in
        var cache = try cached(body)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var p = TextParser(body, metadata: false)
            var sum = 0.0
            var guess = 0
            var hits = 0
            while let e = try p.next(known: { cache.prefixLength(of: guess, in: $0) }) {
                guard case .sample(let series, let value, _) = e else { continue }
                let i = p.matchedKnown ? guess : cache.index(of: series, guess: guess)
                if let i {
                    guess = i + 1
                    sum += value
                    hits += 1
                }
            }
            blackHole(sum)
            precondition(hits == 10_000)
        }
    }

    Benchmark("Parse 10k-series body, labels parsed (first scrape)") { benchmark in
        for _ in benchmark.scaledIterations {
            var p = TextParser(body)
            var n = 0
            while let e = try p.next() {
                if case .sample(let series, _, _) = e { blackHole(try TextParser.labels(of: series)); n += 1 }
            }
            precondition(n == 10_000)
        }
    }

    // A whole repeat scrape into a TSDB head, as the scrape loop ingests a fetched body: the
    // parse with guessed series, appends through cached handles, the staleness pass, commit.
    let plain = exposition(timestamps: false)
    Benchmark("Scrape ingest, repeat 10k-series body into a head") { benchmark in
        guard let target = ScrapeTarget.make(discovered: Labels(["__address__": "bench:9100"]), job: "bench", scheme: "http",
                                             metricsPath: "/metrics", params: [:], interval: 15_000, timeout: 10_000,
                                             relabel: []) else { preconditionFailure("no target") }
        let loop = ScrapeLoop(target: target, storage: Head())
        // An hour ago, then 1 ms a scrape: every sample inside the head's window however many
        // iterations run.
        var time = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        _ = try loop.ingest(plain, contentType: "text/plain; version=0.0.4", at: time)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            time += 1
            let counts = try loop.ingest(plain, contentType: "text/plain; version=0.0.4", at: time)
            precondition(counts.kept == 10_000 && counts.added == 0)
        }
    }

    // The importers' path (the import endpoint, `sextant import`): each line's series text
    // looked up in the cache, its value and timestamp read, the sample handed on by ref.
    Benchmark("Import lines, 10k-series body, cached series") { benchmark in
        var lines: [Range<Int>] = []
        var start = 0
        while let end = body[start...].firstIndex(of: 10) {
            lines.append(start..<end)
            start = end + 1
        }
        var ingester = LineIngester(format: .text, cacheCapacity: 100_000)
        var created: SeriesRef = 0
        var sum = 0.0
        func pass() throws {
            for r in lines {
                _ = try ingester.ingest(body[r], time: { $0 ?? 0 }, create: { _, _, v in
                    created += 1
                    sum += v
                    return created
                }, append: { _, _, v in sum += v })
            }
        }
        try pass()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try pass() }
        blackHole(sum)
        precondition(created == 10_000)
    }
}
