import Foundation
import Logging
import PromQL
import TSDB
import Workloads

/// One line of the result table.
struct BenchFigure {
    let benchmark: String
    let measure: String
    let value: String
}

/// Runs the built-in benchmarks in a scratch directory and collects their figures.
struct BenchRunner {
    let data: BenchData
    let scratch: String
    let progress: Progress
    var figures: [BenchFigure] = []

    mutating func add(_ benchmark: String, _ measure: String, _ value: String) {
        figures.append(BenchFigure(benchmark: benchmark, measure: measure, value: value))
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Appends every sample through the head and WAL as scrapes would: one commit per 1000
    /// series and timestamp, the series' refs kept after the first append.
    mutating func ingest() throws {
        var logger = Logger(label: "sextant.bench")
        logger.logLevel = .error
        let db = try DB.open(directory: scratch + "/ingest", logger: logger)
        defer { db.close() }
        let series = data.data.series
        var refs = [SeriesRef?](repeating: nil, count: series.count)
        let progress = self.progress
        let time = try Self.seconds {
            let app = db.appender()
            for k in 0..<data.samplesPerSeries {
                for i in series.indices {
                    let (t, v) = (series[i].timestamps[k], series[i].values[k])
                    if let ref = refs[i] { try app.append(ref, t, v) } else { refs[i] = try app.append(data.labels[i], t, v) }
                    if i % 1000 == 999 { try app.commit() }
                }
                try app.commit()
                progress.update(Double(k + 1) / Double(data.samplesPerSeries), "ingest")
            }
        }
        let n = Double(data.sampleCount)
        add("ingest", "samples/s (head + WAL, a commit per 1000 series)", rate(n / time))
        add("ingest", "WAL bytes/sample", String(format: "%.2f", Double(directorySize(scratch + "/ingest/wal")) / n))
    }

    /// Bytes per sample of the chunk codec against Gorilla on the same data, and on disk
    /// once written as blocks.
    mutating func compression() throws {
        let n = Double(data.sampleCount)
        let ours = data.data.chunks().reduce(0) { $0 + $1.byteCount }
        let gorilla = data.data.chunks(only: ChunkEncoding(timestamps: .deltaOfDelta, values: .xor)).reduce(0) { $0 + $1.byteCount }
        add("compression", "codec bytes/sample", String(format: "%.2f", Double(ours) / n))
        add("compression", "Gorilla bytes/sample, same data", String(format: "%.2f", Double(gorilla) / n))
        let summary = try writeBlocks()
        add("compression", "blocks written, samples/s", rate(Double(summary.time > 0 ? n / summary.time : 0)))
        add("compression", "on disk bytes/sample (chunks, index, meta)", String(format: "%.2f", Double(directorySize(scratch + "/blocks")) / n))
    }

    /// Writes the data as blocks under scratch/blocks (once).
    mutating func writeBlocks() throws -> (blocks: Int, time: Double) {
        let directory = scratch + "/blocks"
        if FileManager.default.fileExists(atPath: directory) { return (0, 0) }
        let importer = try BlockImporter(directory: directory)
        let series = data.data.series
        var blocks = 0
        let time = try Self.seconds {
            for i in series.indices {
                let id = importer.seriesID(data.labels[i])
                for k in series[i].timestamps.indices { try importer.add(id, series[i].timestamps[k], series[i].values[k]) }
            }
            blocks = try importer.finish().blocks.count
        }
        return (blocks, time)
    }

    /// Dashboard-like range queries over the whole data set, on its blocks: median of five runs.
    mutating func query() throws {
        _ = try writeBlocks()
        var logger = Logger(label: "sextant.bench")
        logger.logLevel = .error
        let db = try ReadOnlyDB.open(directory: scratch + "/blocks", logger: logger)
        let engine = Engine()
        let step: Int64 = 60_000
        let start = data.start + 300_000, end = data.end
        guard end > start else { return }
        let steps = Int((end - start) / step) + 1
        let queries = [
            "bench_temperature_celsius",
            "rate(bench_requests_total[5m])",
            "sum by (instance) (rate(bench_requests_total[5m]))",
            "avg_over_time(bench_temperature_celsius[5m])",
            "topk(5, bench_temperature_celsius)",
            "count by (__name__) ({job=\"bench\"})",
        ]
        for (k, q) in queries.enumerated() {
            var times: [Double] = []
            for _ in 0..<5 {
                times.append(try Self.seconds { _ = try engine.rangeQuery(q, start: start, end: end, step: step, on: db) })
            }
            times.sort()
            progress.update(Double(k + 1) / Double(queries.count), "query")
            add("query", "\(q) (\(steps) steps)", String(format: "%.1f ms", times[2] * 1000))
        }
    }

    func rate(_ perSecond: Double) -> String {
        perSecond >= 1e6 ? String(format: "%.2f M", perSecond / 1e6) : String(format: "%.0f k", perSecond / 1e3)
    }
}
