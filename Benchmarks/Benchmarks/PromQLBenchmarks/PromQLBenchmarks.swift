import Benchmark
import PromQL
import TSDB

/// Range queries of 1000 steps over 1, 10, 100 and 1000 series, as in Prometheus'
/// BenchmarkRangeQuery: a counter `a_N` and a histogram `h_N_bucket` with N series each,
/// sampled every 10s; steps every 10s.
func makeHead() throws -> Head {
    let head = Head()
    let app = head.appender()
    let samples = 1000 + 60          // 1000 steps plus a 10m look-back for rate windows
    let les = ["0.1", "0.5", "1", "5", "10", "50", "100", "500", "1000", "+Inf"]
    for n in [1, 10, 100, 1000] {
        var refs: [SeriesRef] = []
        for i in 0..<n {
            refs.append(try app.append(Labels(["__name__": "a_\(n)", "l": "\(i)"]), 0, 0))
        }
        var bucketRefs: [(SeriesRef, Int)] = []
        for i in 0..<n {
            let le = les[i % les.count]
            bucketRefs.append((try app.append(Labels(["__name__": "h_\(n)_bucket", "l": "\(i / les.count)", "le": le]), 0, 0), i % les.count))
        }
        for s in 1..<samples {
            let t = Int64(s) * 10_000
            for (i, r) in refs.enumerated() { try app.append(r, t, Double(s * (i % 7 + 1))) }
            for (r, k) in bucketRefs { try app.append(r, t, Double(s * (k + 1))) }
            if s % 100 == 0 { try app.commit() }
        }
        try app.commit()
    }
    return head
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(2), maxIterations: 50,
                                           thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 2])])
    nonisolated(unsafe) var shared: Head?
    let engine = Engine()
    let start: Int64 = 600_000, end: Int64 = 600_000 + 999 * 10_000
    for n in [1, 10, 100, 1000] {
        let queries = [
            ("selector", "a_\(n)"),
            ("rate", "rate(a_\(n)[1m])"),
            ("sum by", "sum by (l) (a_\(n))"),
            ("histogram_quantile", "histogram_quantile(0.9, rate(h_\(n)_bucket[5m]))"),
        ]
        for (name, query) in queries {
            Benchmark("range \(name), \(n) series x 1000 steps") { benchmark in
                if shared == nil { shared = try makeHead() }
                guard let head = shared else { return }
                benchmark.startMeasurement()
                let result = try engine.rangeQuery(query, start: start, end: end, step: 10_000, on: head)
                benchmark.stopMeasurement()
                blackHole(result)
            }
        }
    }
}
