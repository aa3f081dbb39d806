import Benchmark
import TSDB
import Workloads

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal],
                                           maxDuration: .seconds(3), maxIterations: 200,
                                           thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 2])])
    storageBenchmarks()
    let data = ScrapeLikeData(series: 1000, samples: 1200)

    // Bytes per sample of the codec, ours against the Gorilla baseline (the appendable
    // encodings: delta-of-delta + XOR), overall and by kind, for jittered and aligned stamps.
    let bytesMetric = BenchmarkMetric.custom("milli-bytes/sample", polarity: .prefersSmaller, useScalingFactor: false)
    let aligned = ScrapeLikeData(series: 1000, samples: 1200, jitter: 0)
    for (label, set) in [("jitter ±50ms", data), ("aligned", aligned)] {
        for kind in [nil] + ScrapeLikeData.Kind.allCases.map(Optional.some) {
            for (codec, only) in [("sextant", nil as ChunkEncoding?), ("gorilla", ChunkEncoding.appendable)] {
                let name = "Bytes/sample \(codec) \(kind?.rawValue ?? "all") (\(label))"
                Benchmark(name, configuration: .init(metrics: [bytesMetric], maxIterations: 1)) { benchmark in
                    let chunks = set.chunks(only: only, kind: kind)
                    let n = set.series.filter { kind == nil || $0.kind == kind }.reduce(0) { $0 + $1.timestamps.count }
                    let bytes = chunks.reduce(0) { $0 + $1.byteCount }
                    benchmark.measurement(bytesMetric, bytes * 1000 / n)
                }
            }
        }
    }

    Benchmark("Chunk encode (seal, 1.2M samples)") { benchmark in
        blackHole(data.chunks())
    }

    Benchmark("Chunk append (open chunk, 1.2M samples)") { benchmark in
        do {
            for s in data.series {
                var app = ChunkAppender()
                for i in s.timestamps.indices {
                    if app.count == 120 { blackHole(app.byteCount); app = ChunkAppender() }
                    app.append(s.timestamps[i], s.values[i])
                }
                blackHole(app.byteCount)
            }
        }
    }

    let sealed = data.chunks()
    let gorilla = data.chunks(only: .appendable)
    for (name, chunks) in [("sextant", sealed), ("gorilla", gorilla)] {
        Benchmark("Chunk decode \(name) (1.2M samples)") { benchmark in
            do {
                var sum = 0.0
                var last: Int64 = 0
                for c in chunks {
                    var it = c.makeIterator()
                    while it.next() {
                        let (t, v) = it.at()
                        sum += v
                        last = t
                    }
                }
                blackHole(sum)
                blackHole(last)
            }
        }

        Benchmark("Chunk seek to middle \(name) (\(chunks.count) chunks)") { benchmark in
            let targets = chunks.map { c -> Int64 in
                let h = try? c.header()
                return ((h?.minTime ?? 0) / 2) + ((h?.maxTime ?? 0) / 2)
            }
            benchmark.startMeasurement()
            do {
                for (c, target) in zip(chunks, targets) {
                    var it = c.makeIterator()
                    _ = it.seek(to: target)
                    blackHole(it.at())
                }
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("Head append by ref (10k series x 100 samples)",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
                                   thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 2])])) { benchmark in
        let head = Head()
        let app = head.appender()
        var refs: [SeriesRef] = []
        for i in 0..<10_000 {
            refs.append(try app.append(Labels(["__name__": "m\(i % 100)", "i": "\(i)"]), 0, 0))
        }
        try app.commit()
        benchmark.startMeasurement()
        do {
            for step in 1...100 {
                let t = Int64(step) * 15_000
                for (i, r) in refs.enumerated() {
                    try app.append(r, t, Double(i &+ step))
                    if i % 1000 == 999 { try app.commit() }
                }
                try app.commit()
            }
        }
        benchmark.stopMeasurement()
    }
}
