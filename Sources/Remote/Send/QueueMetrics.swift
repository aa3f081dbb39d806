import Foundation
import Synchronization

/// One queue's counters, exported like Prometheus' `prometheus_remote_storage_*` with the prefix
/// `sextant_remote_storage_` and the labels `remote_name` and `url`.
final class QueueMetrics: Sendable {
    let name: String
    let url: String
    let samplesSent = Atomic<Int>(0)          // every attempt, as Prometheus counts
    let samplesFailed = Atomic<Int>(0)
    let samplesRetried = Atomic<Int>(0)
    let samplesDropped = Atomic<Int>(0)
    let samplesPending = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let batchesSent = Atomic<Int>(0)
    let sendNanoseconds = Atomic<Int>(0)
    let highestSentMillis = Atomic<Int64>(0)
    let highestReadMillis = Atomic<Int64>(0)
    let shards = Atomic<Int>(0)
    let shardsDesired = Atomic<Int>(0)        // × 1000, the unrounded figure
    let minShards: Int
    let maxShards: Int
    let capacity: Int
    let maxSamplesPerSend: Int
    let metadataSent = Atomic<Int>(0)
    let metadataFailed = Atomic<Int>(0)
    let metadataRetried = Atomic<Int>(0)
    let metadataBytes = Atomic<Int>(0)
    let walSegment = Atomic<Int>(0)
    let walGaps = Atomic<Int>(0)

    init(name: String, url: String, minShards: Int, maxShards: Int, capacity: Int, maxSamplesPerSend: Int) {
        self.name = name
        self.url = Self.redacted(url)
        self.minShards = minShards
        self.maxShards = maxShards
        self.capacity = capacity
        self.maxSamplesPerSend = maxSamplesPerSend
    }

    static func raiseMax(_ a: borrowing Atomic<Int64>, _ v: Int64) {
        var current = a.load(ordering: .relaxed)
        while current < v {
            let (done, now) = a.compareExchange(expected: current, desired: v, ordering: .relaxed)
            if done { return }
            current = now
        }
    }

    /// The URL with a password in it replaced, as Prometheus shows it.
    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "xxxxx"
        return c.string ?? url
    }

    /// Exposition lines (without HELP/TYPE, which `RemoteWriteMetrics.render` writes once).
    func lines(_ add: (String, String) -> Void) {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        let labels = "{remote_name=\"\(esc(name))\",url=\"\(esc(url))\"}"
        func put(_ metric: String, _ value: String) { add(metric, labels + " " + value) }
        put("samples_total", "\(samplesSent.load(ordering: .relaxed))")
        put("samples_failed_total", "\(samplesFailed.load(ordering: .relaxed))")
        put("samples_retried_total", "\(samplesRetried.load(ordering: .relaxed))")
        put("samples_dropped_total", "\(samplesDropped.load(ordering: .relaxed))")
        put("samples_pending", "\(samplesPending.load(ordering: .relaxed))")
        put("bytes_total", "\(bytesSent.load(ordering: .relaxed))")
        put("sent_batch_duration_seconds_sum", "\(Double(sendNanoseconds.load(ordering: .relaxed)) / 1e9)")
        put("sent_batch_duration_seconds_count", "\(batchesSent.load(ordering: .relaxed))")
        put("queue_highest_sent_timestamp_seconds", "\(Double(highestSentMillis.load(ordering: .relaxed)) / 1000)")
        put("queue_highest_read_timestamp_seconds", "\(Double(highestReadMillis.load(ordering: .relaxed)) / 1000)")
        put("shards", "\(shards.load(ordering: .relaxed))")
        put("shards_desired", "\(Double(shardsDesired.load(ordering: .relaxed)) / 1000)")
        put("shards_min", "\(minShards)")
        put("shards_max", "\(maxShards)")
        put("shard_capacity", "\(capacity)")
        put("max_samples_per_send", "\(maxSamplesPerSend)")
        put("metadata_total", "\(metadataSent.load(ordering: .relaxed))")
        put("metadata_failed_total", "\(metadataFailed.load(ordering: .relaxed))")
        put("metadata_retried_total", "\(metadataRetried.load(ordering: .relaxed))")
        put("metadata_bytes_total", "\(metadataBytes.load(ordering: .relaxed))")
        put("wal_segment", "\(walSegment.load(ordering: .relaxed))")
        put("wal_gaps_total", "\(walGaps.load(ordering: .relaxed))")
    }

    static let families: [(String, String, String)] = [
        ("samples_total", "counter", "Samples sent, every attempt counted (retries count again)."),
        ("samples_failed_total", "counter", "Samples dropped after a non-recoverable answer (4xx other than 429 when retried)."),
        ("samples_retried_total", "counter", "Samples sent again after a recoverable failure (transport error, 5xx, 429)."),
        ("samples_dropped_total", "counter", "Samples read from the WAL and not sent: write relabeling dropped their series, or its series record was never read."),
        ("samples_pending", "gauge", "Samples read from the WAL and not yet sent."),
        ("bytes_total", "counter", "Compressed bytes of the sample requests sent, once per batch."),
        ("sent_batch_duration_seconds_sum", "counter", "Seconds spent sending batches (every attempt)."),
        ("sent_batch_duration_seconds_count", "counter", "Batch send attempts."),
        ("queue_highest_sent_timestamp_seconds", "gauge", "Newest sample timestamp in a finished batch."),
        ("queue_highest_read_timestamp_seconds", "gauge", "Newest sample timestamp the queue read from the WAL."),
        ("shards", "gauge", "Shards sending now."),
        ("shards_desired", "gauge", "Shards the backlog and send rate call for."),
        ("shards_min", "gauge", "min_shards."),
        ("shards_max", "gauge", "max_shards."),
        ("shard_capacity", "gauge", "capacity: samples buffered per shard."),
        ("max_samples_per_send", "gauge", "max_samples_per_send."),
        ("metadata_total", "counter", "Metric metadata entries sent."),
        ("metadata_failed_total", "counter", "Metric metadata entries dropped after a non-recoverable answer."),
        ("metadata_retried_total", "counter", "Metric metadata entries sent again."),
        ("metadata_bytes_total", "counter", "Compressed bytes of metadata requests sent."),
        ("wal_segment", "gauge", "WAL segment the queue reads."),
        ("wal_gaps_total", "counter", "Times the queue found the WAL segments it had not read deleted (it fell behind by more than the WAL holds)."),
    ]
}
