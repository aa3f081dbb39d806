import Benchmark
import Exposition
import Scrape
import TSDB

/// A text-format body of 10k series: 100 metric names x 100 label combinations.
func exposition(series: Int = 10_000) -> [UInt8] {
    var out = ""
    for m in 0..<100 {
        out += "# HELP bench_metric_\(m) A benchmark metric.\n# TYPE bench_metric_\(m) counter\n"
        for i in 0..<(series / 100) {
            out += "bench_metric_\(m){instance=\"host-\(i % 10):9100\",job=\"node\",path=\"/api/v\(i)\",code=\"\(200 + i % 3 * 100)\"} \(i * 37 + m).\(i % 10) 1764000000000\n"
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
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3))
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
}
