import Foundation
import Synchronization
import TSDB

/// A Prometheus histogram with fixed buckets.
final class Histogram: Sendable {
    struct State {
        var counts: [Int]
        var total = 0
        var sum = 0.0
    }

    let bounds: [Double]
    let state: Locked<State>

    init(bounds: [Double]) {
        self.bounds = bounds
        state = Locked(State(counts: Array(repeating: 0, count: bounds.count)))
    }

    func observe(_ seconds: Double) {
        state.withLock { s in
            for (i, b) in bounds.enumerated() where seconds <= b { s.counts[i] += 1 }
            s.total += 1
            s.sum += seconds
        }
    }

    /// Bucket, sum and count lines.
    func render(_ name: String) -> String {
        let s = state.withLock { $0 }
        var out = ""
        for (i, b) in bounds.enumerated() { out += "\(name)_bucket{le=\"\(b)\"} \(s.counts[i])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(s.total)\n"
        out += "\(name)_sum \(s.sum)\n\(name)_count \(s.total)\n"
        return out
    }
}

/// The server's own metrics, exposed on /metrics in the Prometheus text format.
final class ServerMetrics: Sendable {
    static let durationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60]
    let queryDuration = Histogram(bounds: durationBuckets)
    let httpDuration = Histogram(bounds: durationBuckets)
    let httpRequests = Atomic<Int>(0)
    /// Remote write receiver: samples appended, samples refused, requests refused whole.
    let remoteWriteSamples = Atomic<Int>(0)
    let remoteWriteRejected = Atomic<Int>(0)
    let remoteWriteInvalidRequests = Atomic<Int>(0)
    /// Remote read requests being answered.
    let remoteReadQueries = Atomic<Int>(0)
    let startTime = Date()

    func observeQuery(_ d: Swift.Duration) {
        queryDuration.observe(Self.seconds(d))
    }

    static func seconds(_ d: Swift.Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) * 1e-18
    }

    /// The exposition text.
    func render(db: DB, build: BuildInfo, metadataDropped: Int = 0, extra: String = "") -> String {
        let head = db.head.stats
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        func metric(_ name: String, _ type: String, _ help: String, _ value: String, labels: String = "") {
            family(name, type, help)
            out += "\(name)\(labels) \(value)\n"
        }
        metric("sextant_build_info", "gauge", "Build information.", "1",
               labels: "{version=\"\(build.version)\",revision=\"\(build.revision)\",branch=\"\(build.branch)\"}")
        metric("sextant_tsdb_head_series", "gauge", "Series in the head block.", "\(head.series)")
        metric("sextant_tsdb_head_samples_appended_total", "counter", "Samples appended to the head.", "\(head.samplesAppended)")
        metric("sextant_tsdb_out_of_order_samples_total", "counter", "Samples rejected as out of order.", "\(head.outOfOrderSamples)")
        metric("sextant_tsdb_out_of_bounds_samples_total", "counter", "Samples rejected as older than the head.", "\(head.outOfBoundsSamples)")
        metric("sextant_metadata_dropped_total", "counter", "Metric families whose TYPE/HELP/UNIT were not kept because the metadata store was full.", "\(metadataDropped)")
        metric("sextant_tsdb_too_far_in_future_samples_total", "counter", "Samples rejected as stamped too far ahead of the clock.", "\(head.tooFarInFutureSamples)")
        metric("sextant_tsdb_wal_corruptions_total", "counter", "WAL corruptions found and repaired on open.", "\(db.replayStats.corruptions)")
        metric("sextant_tsdb_checkpoint_creations_failed_total", "counter", "WAL checkpoints not written because a segment was damaged (segments kept).", "\(db.checkpointFailureCount)")
        metric("sextant_tsdb_blocks_loaded", "gauge", "Blocks in use.", "\(db.blocks.count)")
        metric("sextant_tsdb_storage_blocks_bytes", "gauge", "Bytes of blocks and WAL on disk.", "\(db.size)")
        family("sextant_engine_query_duration_seconds", "histogram", "Time spent evaluating queries.")
        out += queryDuration.render("sextant_engine_query_duration_seconds")
        family("sextant_http_request_duration_seconds", "histogram", "Time spent answering HTTP requests.")
        out += httpDuration.render("sextant_http_request_duration_seconds")
        metric("sextant_http_requests_total", "counter", "HTTP requests served.", "\(httpRequests.load(ordering: .relaxed))")
        metric("sextant_remote_write_received_samples_total", "counter", "Samples appended from remote write requests.", "\(remoteWriteSamples.load(ordering: .relaxed))")
        metric("sextant_remote_write_rejected_samples_total", "counter", "Samples of remote write requests refused (bad labels, out of order, out of bounds, too far in the future, native histograms).", "\(remoteWriteRejected.load(ordering: .relaxed))")
        metric("sextant_remote_write_invalid_requests_total", "counter", "Remote write requests refused whole (undecodable or too large).", "\(remoteWriteInvalidRequests.load(ordering: .relaxed))")
        metric("sextant_api_remote_read_queries", "gauge", "Remote read requests being answered.", "\(remoteReadQueries.load(ordering: .relaxed))")
        out += extra
        out += ProcessMetrics.render(startTime: startTime)
        return out
    }
}

/// process_* metrics from /proc, as Prometheus' client libraries export them.
enum ProcessMetrics {
    static func render(startTime: Date) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after the command name: utime is the 12th, stime the 13th, rss the 22nd.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 22, let u = Double(fields[11]), let s = Double(fields[12]), let rss = Double(fields[21]) {
                metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", "\((u + s) / ticks)")
                metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", "\(Int(rss) * Int(sysconf(Int32(_SC_PAGESIZE))))")
            }
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        metric("process_open_fds", "gauge", "Number of open file descriptors.", "\(fds)")
        metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
               "\(Int(startTime.timeIntervalSince1970))")
        return out
    }
}
