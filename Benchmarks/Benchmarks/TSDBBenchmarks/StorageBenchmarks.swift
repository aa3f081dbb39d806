import Benchmark
import Foundation
import TSDB
import Workloads

/// A fresh directory under the system's temporary directory.
func scratchDirectory(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "sextant-bench-\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Appends a scrape-like data set, one commit per scrape round.
func load(_ data: ScrapeLikeData, into db: DB) throws {
    let app = db.appender()
    let labels = data.series.indices.map {
        Labels(["__name__": "bench_metric_\($0 % 50)", "instance": "host-\($0 / 50)", "job": "bench"])
    }
    var refs = [SeriesRef?](repeating: nil, count: labels.count)
    let rounds = data.series.first?.timestamps.count ?? 0
    for i in 0..<rounds {
        for (k, s) in data.series.enumerated() {
            if let r = refs[k] { try app.append(r, s.timestamps[i], s.values[i]) } else {
                refs[k] = try app.append(labels[k], s.timestamps[i], s.values[i])
            }
        }
        try app.commit()
    }
}

func storageBenchmarks() {
    let bytesMetric = BenchmarkMetric.custom("milli-bytes/sample", polarity: .prefersSmaller, useScalingFactor: false)

    // Bytes per sample on disk (blocks: chunks, index and meta) for 1000 series: 6h (two 2h
    // blocks) and 24h (2h blocks merged into 6h and 18h ones).
    for (label, jitter, hours) in [("jitter ±50ms", Int64(50), 6), ("aligned", Int64(0), 6),
                                   ("jitter ±50ms", Int64(50), 24), ("aligned", Int64(0), 24)] {
        Benchmark("Disk bytes/sample, blocks incl. index, \(hours)h (\(label))",
                  configuration: .init(metrics: [bytesMetric], maxIterations: 1)) { benchmark in
            let dir = scratchDirectory("disk")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = try DB.open(directory: dir)
            try load(ScrapeLikeData(series: 1000, samples: hours * 240, jitter: jitter), into: db)
            try db.compact()
            let samples = db.blocks.reduce(0) { $0 + $1.meta.stats.numSamples }
            let bytes = db.blocks.reduce(0) { $0 + $1.size }
            benchmark.measurement(bytesMetric, bytes * 1000 / max(samples, 1))
            db.close()
        }
    }

    Benchmark("WAL replay on open (2000 series x 2500 samples = 5M)",
              configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxIterations: 5)) { benchmark in
        let dir = scratchDirectory("replay")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try DB.open(directory: dir)
        try load(ScrapeLikeData(series: 2000, samples: 2500), into: writer)
        writer.close()
        for _ in benchmark.scaledIterations {
            benchmark.startMeasurement()
            let db = try DB.open(directory: dir)
            benchmark.stopMeasurement()
            precondition(db.replayStats.samples == 5_000_000, "replayed \(db.replayStats.samples)")
            db.close()
        }
    }

    Benchmark("Open a directory with 1M series",
              configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxIterations: 3)) { benchmark in
        let dir = scratchDirectory("open")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try DB.open(directory: dir)
        let app = writer.appender()
        for i in 0..<1_000_000 {
            try app.append(Labels(["__name__": "m\(i % 1000)", "instance": "host-\(i / 1000)", "job": "bench"]), 1000, 1)
            if i % 10_000 == 9_999 { try app.commit() }
        }
        try app.commit()
        writer.close()
        benchmark.startMeasurement()
        let db = try DB.open(directory: dir)
        benchmark.stopMeasurement()
        precondition(db.head.stats.series == 1_000_000)
        db.close()
    }

    Benchmark("Compaction: head to a 2h block (1000 series x 480 samples)",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 5,
                                   thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 2])])) { benchmark in
        let dir = scratchDirectory("compact")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try DB.open(directory: dir)
        try load(ScrapeLikeData(series: 1000, samples: 900), into: db)   // 3h45m: one 2h block is due
        benchmark.startMeasurement()
        try db.compact()
        benchmark.stopMeasurement()
        precondition(db.blocks.count == 1)
        db.close()
    }
}
