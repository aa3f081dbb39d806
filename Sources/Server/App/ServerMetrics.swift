import Synchronization
import TSDB

/// The server's own metrics, exposed on /metrics in the Prometheus text format.
final class ServerMetrics: Sendable {
    let queries = Atomic<Int>(0)
    let queryNanoseconds = Atomic<Int>(0)
    let httpRequests = Atomic<Int>(0)

    func observeQuery(_ d: Swift.Duration) {
        queries.add(1, ordering: .relaxed)
        let (s, atto) = d.components
        queryNanoseconds.add(Int(s) * 1_000_000_000 + Int(atto / 1_000_000_000), ordering: .relaxed)
    }

    /// The exposition text.
    func render(db: DB, build: BuildInfo) -> String {
        let head = db.head.stats
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String, labels: String = "") {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name)\(labels) \(value)\n"
        }
        metric("sextant_build_info", "gauge", "Build information.", "1",
               labels: "{version=\"\(build.version)\",revision=\"\(build.revision)\",branch=\"\(build.branch)\"}")
        metric("sextant_tsdb_head_series", "gauge", "Series in the head block.", "\(head.series)")
        metric("sextant_tsdb_head_samples_appended_total", "counter", "Samples appended to the head.", "\(head.samplesAppended)")
        metric("sextant_tsdb_out_of_order_samples_total", "counter", "Samples rejected as out of order.", "\(head.outOfOrderSamples)")
        metric("sextant_tsdb_wal_corruptions_total", "counter", "WAL corruptions found and repaired on open.", "\(db.replayStats.corruptions)")
        metric("sextant_tsdb_blocks_loaded", "gauge", "Blocks in use.", "\(db.blocks.count)")
        metric("sextant_engine_queries_total", "counter", "Queries evaluated.", "\(queries.load(ordering: .relaxed))")
        metric("sextant_engine_query_duration_seconds_total", "counter", "Time spent evaluating queries.",
               formatSecondsValue(queryNanoseconds.load(ordering: .relaxed)))
        metric("sextant_http_requests_total", "counter", "HTTP requests served.", "\(httpRequests.load(ordering: .relaxed))")
        return out
    }

    func formatSecondsValue(_ ns: Int) -> String {
        String(Double(ns) / 1e9)
    }
}
